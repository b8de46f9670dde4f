/**
 * End-to-end section of `npm run bench:inference` (issue 16): `wavfusion predict FOLDER` (the built
 * CLI, one process per run: model load, front end, model, JSONL out) on the same utterances as
 * 16 kHz WAV, 44.1 kHz WAV, 48 kHz FLAC, MP3 (44.1 kHz, 128 kbit/s) and Opus (48 kHz, 48 kbit/s),
 * for the current tree ("after") and an earlier commit ("before", E2E_BEFORE_COMMIT: by default the
 * last one with the Speex resampler; 4e4100b is the one before the pipelined front end), checked
 * out as a git worktree under benchmarks/.work and built there; runs
 * interleaved (before, after, after, before, …) so both see the same machine load. Beside them the
 * engine-only rate: InferenceEngine.predict in-process on the 16 kHz WAVs with the front end
 * in-process (a WAV read, no resampling), timed after load.
 *
 * Front-end share of a run = 1 − (engine-only time + model load) / (that run's predict time, which
 * includes the load).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface E2EUtterance {
  key: string;
  path: string;
  text: string | null;
  durationS: number;
}

/** The tree to compare with, and what its front end was (E2E_BEFORE_COMMIT, E2E_BEFORE_NOTE). */
export const E2E_BEFORE_COMMIT = process.env.E2E_BEFORE_COMMIT ?? 'b2c91a7';
const E2E_BEFORE_NOTE =
  process.env.E2E_BEFORE_NOTE ??
  (E2E_BEFORE_COMMIT === 'b2c91a7'
    ? 'pipelined front end with the Speex resampler'
    : 'see docs/benchmarks.md for what that tree ran');

const FORMATS = [
  { name: '16 kHz WAV', ext: 'wav', convert: (i: string, o: string) => ['cp', [i, o]] as const },
  { name: '44.1 kHz WAV', ext: 'wav', convert: (i: string, o: string) => ['sox', [i, '-r', '44100', o]] as const },
  {
    name: '48 kHz FLAC',
    ext: 'flac',
    convert: (i: string, o: string) => ['sox', [i, '-r', '48000', '-b', '24', o]] as const,
  },
  {
    name: 'MP3 44.1 kHz 128k',
    ext: 'mp3',
    convert: (i: string, o: string) =>
      ['ffmpeg', ['-v', 'error', '-y', '-i', i, '-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '128k', o]] as const,
  },
  {
    name: 'Opus 48 kHz 48k',
    ext: 'opus',
    convert: (i: string, o: string) =>
      ['ffmpeg', ['-v', 'error', '-y', '-i', i, '-ar', '48000', '-c:a', 'libopus', '-b:a', '48k', o]] as const,
  },
];

function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

async function makeFolders(work: string, utterances: E2EUtterance[], log: (m: string) => void) {
  const folders: Record<string, string> = {};
  for (const f of FORMATS) {
    const dir = path.join(work, 'inputs', `${utterances.length}-${f.name.replace(/[^a-z0-9]+/gi, '-')}`);
    folders[f.name] = dir;
    if (fs.existsSync(path.join(dir, '.done'))) continue;
    fs.mkdirSync(dir, { recursive: true });
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < utterances.length) {
        const u = utterances[next++]!;
        const [cmd, args] = f.convert(u.path, path.join(dir, `${u.key}.${f.ext}`));
        const r = await run(cmd, args, work);
        if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.err}`);
        if (u.text) fs.writeFileSync(path.join(dir, `${u.key}.txt`), u.text);
      }
    };
    await Promise.all([worker(), worker()]);
    fs.writeFileSync(path.join(dir, '.done'), '');
    log(`end-to-end inputs: ${f.name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return folders;
}

/** The CLI of `commit`, built in a worktree under `work` (reused). */
async function beforeCli(root: string, work: string, log: (m: string) => void): Promise<string> {
  const dir = path.join(work, `before-${E2E_BEFORE_COMMIT}`);
  const cli = path.join(dir, 'bin', 'wavfusion.mjs');
  if (fs.existsSync(path.join(dir, 'out', 'main', 'cli.js'))) return cli;
  if (!fs.existsSync(dir)) {
    const r = spawnSync('git', ['worktree', 'add', '--detach', dir, E2E_BEFORE_COMMIT], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`git worktree add: ${r.stderr}`);
  }
  if (!fs.existsSync(path.join(dir, 'node_modules')))
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  // Same model: the worktree's resources are the commit's, point it at the current demo bundle.
  const b = await run(path.join(root, 'node_modules', '.bin', 'electron-vite'), ['build'], dir);
  if (b.code !== 0) throw new Error(`build of ${E2E_BEFORE_COMMIT}: ${b.err}`);
  log(`end-to-end: built ${E2E_BEFORE_COMMIT} in ${path.relative(root, dir)}`);
  return cli;
}

interface CliRun {
  version: 'before' | 'after';
  format: string;
  wallS: number;
  predictS: number;
  audioS: number;
  xrt: number;
  peakMiB: number;
}

async function cliRun(cli: string, folder: string, model: string, threads: number, cwd: string) {
  const out = path.join(folder, '..', 'predictions.jsonl');
  const t0 = performance.now();
  const r = await run(
    process.execPath,
    [cli, 'predict', folder, '--model', model, '--threads', String(threads), '--out', out],
    cwd,
  );
  const wallS = (performance.now() - t0) / 1000;
  // The CLI's own × real time is computed from unrounded times (its "in 0.9 s" is rounded to 0.1 s).
  const m = /audio ([\d.]+) h in [\d.]+ s \(([\d.]+)× real time\).*peak memory (\d+) MB/.exec(r.err);
  if (!m || r.code !== 0) throw new Error(`predict failed (${r.code}): ${r.err.slice(-2000)}`);
  const audioS = Number(m[1]) * 3600;
  const xrt = Number(m[2]);
  return { wallS, predictS: audioS / xrt, audioS, xrt, peakMiB: Number(m[3]) };
}

export async function endToEnd(options: {
  root: string;
  work: string;
  utterances: E2EUtterance[];
  model: string;
  threads: number;
  reps: number;
  log: (m: string) => void;
}): Promise<{ runs: CliRun[]; engineOnly: { xrt: number; seconds: number; loadS: number }[]; markdown: string[] }> {
  const { root, work, utterances, model, threads, reps, log } = options;
  fs.mkdirSync(work, { recursive: true });
  const folders = await makeFolders(work, utterances, log);
  const clis = { before: await beforeCli(root, work, log), after: path.join(root, 'bin', 'wavfusion.mjs') };
  const b = await run('npx', ['electron-vite', 'build'], root);
  if (b.code !== 0) throw new Error(`build: ${b.err}`);
  const audio = utterances.reduce((s, u) => s + u.durationS, 0);

  const runs: CliRun[] = [];
  const engineOnly: { xrt: number; seconds: number; loadS: number }[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const f of FORMATS) {
      const order: ('before' | 'after')[] = rep % 2 ? ['after', 'before'] : ['before', 'after'];
      for (const version of order) {
        const r = await cliRun(clis[version], folders[f.name]!, model, threads, root);
        runs.push({ version, format: f.name, ...r });
        log(
          `end-to-end ${version} ${f.name}: ${r.xrt.toFixed(1)}× RT, wall ${r.wallS.toFixed(1)} s, peak ${r.peakMiB} MiB`,
        );
      }
    }
    const e = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, 'benchmarks', 'end-to-end-engine.ts'),
        model,
        String(threads),
        folders['16 kHz WAV']!,
      ],
      root,
    );
    if (e.code !== 0) throw new Error(`engine-only: ${e.err}`);
    const [seconds, loadS] = e.out.trim().split(' ').map(Number) as [number, number];
    engineOnly.push({ seconds, loadS, xrt: audio / seconds });
    log(`end-to-end engine-only: ${(audio / seconds).toFixed(1)}× RT`);
  }

  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const engineS = med(engineOnly.map((e) => e.seconds));
  const loadS = med(engineOnly.map((e) => e.loadS));
  const md: string[] = [
    `End to end: \`wavfusion predict FOLDER --threads ${threads}\` (built CLI, one process per run), ${utterances.length} utterances (${audio.toFixed(0)} s of audio) per format, ${path.basename(model)} bundle; before = ${E2E_BEFORE_COMMIT} (${E2E_BEFORE_NOTE}), after = this tree; ${reps} runs each, interleaved; medians. Engine-only: InferenceEngine.predict in-process on the 16 kHz WAVs, after load: ${(audio / engineS).toFixed(1)}× RT.`,
    '',
    '| input | before × RT | after × RT | after / before | after, % of its 16 kHz WAV rate | front-end share before → after | wall before → after | peak RSS before → after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const after16 = med(runs.filter((r) => r.version === 'after' && r.format === '16 kHz WAV').map((r) => r.xrt));
  for (const f of FORMATS) {
    const pick = (v: 'before' | 'after') => runs.filter((r) => r.version === v && r.format === f.name);
    const [bf, af] = [pick('before'), pick('after')];
    const x = (rs: CliRun[]) => med(rs.map((r) => r.xrt));
    const share = (rs: CliRun[]) => Math.max(0, 1 - (engineS + loadS) / med(rs.map((r) => r.predictS)));
    md.push(
      `| ${f.name} | ${x(bf).toFixed(1)} | ${x(af).toFixed(1)} | **${(x(af) / x(bf)).toFixed(2)}×** | ${((100 * x(af)) / after16).toFixed(0)} % | ` +
        `${(100 * share(bf)).toFixed(0)} % → ${(100 * share(af)).toFixed(0)} % | ` +
        `${med(bf.map((r) => r.wallS)).toFixed(1)} s → ${med(af.map((r) => r.wallS)).toFixed(1)} s | ` +
        `${med(bf.map((r) => r.peakMiB)).toFixed(0)} → ${med(af.map((r) => r.peakMiB)).toFixed(0)} MiB |`,
    );
  }
  md.push(
    '',
    `× RT = audio seconds / the CLI's own predict time (model load included, as the CLI reports it); wall = the whole process. Front-end share = 1 − (engine-only time + model load, ${loadS.toFixed(2)} s) / predict time. Peak RSS = the CLI's getrusage maxRSS (worker threads included).`,
  );
  return { runs, engineOnly, markdown: md };
}

/**
 * A long recording streamed through `wavfusion predict` (INFER_E2E_LONG_HOURS): the bench's 10-minute
 * speech file looped to `hours` and encoded as 48 kHz Opus (24 kbit/s), predicted as one whole file
 * (decoded, resampled and run window by window), beside the same for the 10-minute file itself.
 * Peak RSS that does not grow with the length is what "bounded" means.
 */
export async function longStream(options: {
  root: string;
  work: string;
  sourceWav: string;
  sourceSeconds: number;
  hours: number;
  model: string;
  threads: number;
  log: (m: string) => void;
}): Promise<string[]> {
  const { root, work, sourceWav, sourceSeconds, hours, model, threads, log } = options;
  const rows: { name: string; r: Awaited<ReturnType<typeof cliRun>> }[] = [];
  for (const [name, loops] of [
    [`${(sourceSeconds / 60).toFixed(0)} minutes`, 1],
    [`${hours} hours`, Math.ceil((hours * 3600) / sourceSeconds)],
  ] as const) {
    const dir = path.join(work, 'long', name.replace(/\s+/g, '-'));
    const file = path.join(dir, 'recording.opus');
    if (!fs.existsSync(path.join(dir, '.done'))) {
      fs.mkdirSync(dir, { recursive: true });
      const t0 = Date.now();
      const args = ['-v', 'error', '-y', '-stream_loop', String(loops - 1), '-i', sourceWav];
      args.push('-ar', '48000', '-c:a', 'libopus', '-b:a', '24k', '-compression_level', '0', file);
      const r = await run('ffmpeg', args, work);
      if (r.code !== 0) throw new Error(`ffmpeg: ${r.err}`);
      fs.writeFileSync(path.join(dir, '.done'), '');
      log(`long stream input: ${name} encoded in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    const r = await cliRun(path.join(root, 'bin', 'wavfusion.mjs'), dir, model, threads, root);
    log(`long stream ${name}: ${r.xrt.toFixed(1)}× RT, wall ${r.wallS.toFixed(0)} s, peak ${r.peakMiB} MiB`);
    rows.push({ name, r });
  }
  return [
    `Long recording streamed: \`wavfusion predict\` on one 48 kHz Opus file (the bench's speech looped), ${path.basename(model)} bundle, ${threads} threads.`,
    '',
    '| file | audio | × RT | wall | peak RSS |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      ({ name, r }) =>
        `| ${name} | ${(r.audioS / 3600).toFixed(2)} h | ${r.xrt.toFixed(1)} | ${r.wallS.toFixed(0)} s | ${r.peakMiB} MiB |`,
    ),
  ];
}
