/**
 * `npm run bench:inference`: WavFusion inference on the CPU, the TypeScript engine
 * (src/main/inference/engine.ts on onnxruntime-node, in-process) against the PyTorch reference
 * (training/wavfusion, eager), on the same audio with the same batching policy, for the `tiny` and
 * `base` configs. Benchmarks, not tests: nothing here passes or fails.
 *
 * Steps (inputs and bundles are kept under benchmarks/.work/inference and reused when unchanged):
 *  1. inputs: INFER_UTTERANCES (200) espeak-ng utterances of 2–8 s (varied sentences, voices and
 *     speeds; sox to 16 kHz mono 16-bit) with transcripts, and one INFER_LONG_SECONDS (600) file made
 *     of them;
 *  2. bundles (benchmarks/inference_bundles.py): `tiny` (resources/models/wavfusion-demo when it is
 *     there, else random weights) and `base` (wav2vec2-base + roberta-base shapes, random weights);
 *  3. matrix-multiply peak: float32 MatMul in onnxruntime-node and torch.matmul;
 *  4. throughput: per model and thread count, engine and reference runs interleaved (E, R, E, R …),
 *     each in its own process (peak RSS = that run's). `base` runs on the first INFER_BASE_UTTERANCES;
 *  5. the long file through the engine;
 *  6. INFER_WHATIFS=1: onnxruntime session options, batchSeconds and an operator profile on `base`;
 *  7. end to end (benchmarks/end-to-end.ts; INFER_E2E=0 skips it, INFER_E2E_ONLY=1 runs only inputs + it):
 *     `wavfusion predict` on INFER_E2E_UTTERANCES (100) utterances as 16 kHz WAV, 44.1 kHz WAV, 48 kHz
 *     FLAC, MP3 and Opus, before/after (E2E_BEFORE_COMMIT), interleaved, INFER_E2E_REPS (2) each;
 *     INFER_E2E_LONG_HOURS=10 adds a 10-hour Opus file streamed through the CLI (peak RSS);
 *     INFER_E2E_MODEL=base runs it with the base-shaped bundle instead of the demo bundle (tiny).
 *
 * The reference runs twice over where possible: with Debian's torch as installed (its libblas.so.3 is
 * netlib's reference BLAS: unoptimised, single-threaded) and with the same torch loading OpenBLAS
 * (extracted from Debian's libopenblas0-pthread into benchmarks/.work, via LD_LIBRARY_PATH, nothing
 * installed system-wide). The OpenBLAS one stands for a normally built PyTorch and is the one the
 * ratio targets are judged against.
 *
 * Env: INFER_QUICK=1 (a ~2-minute run), INFER_UTTERANCES, INFER_BASE_UTTERANCES, INFER_NETLIB_BASE_UTTERANCES,
 * INFER_REPS, INFER_THREADS ("2,1"), INFER_MODELS ("tiny,base"), INFER_LONG_SECONDS, INFER_LONG_MODELS,
 * INFER_BATCH_SECONDS (60), INFER_WHATIFS, INFER_WHATIF_UTTERANCES (8), INFER_WHATIF_ONLY (e.g. "batchSeconds"), INFER_DOCS=1 (write the results into docs/benchmarks.md),
 * INFER_PYTHON (/usr/bin/python3).
 *
 * Writes benchmarks/.work/inference-results.json and benchmarks/.work/inference-results.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { wavHeader16 } from '../src/main/audio/wav';
import { seededRandom as prng } from '../src/main/export/split';
import { endToEnd, longStream } from './end-to-end';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work', 'inference');
const RESULTS_JSON = path.join(ROOT, 'benchmarks', '.work', 'inference-results.json');
const RESULTS_MD = path.join(ROOT, 'benchmarks', '.work', 'inference-results.md');
const DOCS = path.join(ROOT, 'docs', 'benchmarks.md');
const DEMO_BUNDLE = path.join(ROOT, 'resources', 'models', 'wavfusion-demo');
const SR = 16000;

const env = process.env;
const quick = env.INFER_QUICK === '1';
const int = (name: string, full: number, fast: number) => Number(env[name] ?? (quick ? fast : full));
const list = (name: string, full: string, fast: string) =>
  (env[name] ?? (quick ? fast : full)).split(',').filter(Boolean);
const CFG = {
  utterances: int('INFER_UTTERANCES', 200, 24),
  baseUtterances: int('INFER_BASE_UTTERANCES', 16, 4),
  netlibBaseUtterances: int('INFER_NETLIB_BASE_UTTERANCES', 1, 1),
  reps: int('INFER_REPS', 2, 1),
  threads: list('INFER_THREADS', '2,1', '2').map(Number),
  models: list('INFER_MODELS', 'tiny,base', 'tiny,base'),
  longSeconds: int('INFER_LONG_SECONDS', 600, 60),
  longModels: list('INFER_LONG_MODELS', 'tiny,base', 'tiny'),
  batchSeconds: int('INFER_BATCH_SECONDS', 60, 60),
  whatIfs: env.INFER_WHATIFS === '1',
  whatIfUtterances: int('INFER_WHATIF_UTTERANCES', 8, 8),
  whatIfOnly: list('INFER_WHATIF_ONLY', '', ''),
  docs: env.INFER_DOCS === '1',
  e2e: env.INFER_E2E !== '0',
  e2eOnly: env.INFER_E2E_ONLY === '1',
  e2eUtterances: int('INFER_E2E_UTTERANCES', 100, 24),
  e2eReps: int('INFER_E2E_REPS', 2, 1),
  e2eLongHours: int('INFER_E2E_LONG_HOURS', 0, 0),
  e2eModel: env.INFER_E2E_MODEL ?? 'tiny',
  python: env.INFER_PYTHON ?? '/usr/bin/python3',
};

fs.mkdirSync(WORK, { recursive: true });
const log = (msg: string) => console.log(`[bench:inference] ${msg}`);
const started = Date.now();
const loads: number[] = [];
const sampleLoad = () => loads.push(os.loadavg()[0]!);

// ------------------------------------------------------------------------------------------ helpers

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...options.env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${err.slice(-4000)}`)),
    );
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) : NaN;
};
const fx = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** 16-bit PCM mono WAV. */
function writeWav(file: string, pcm: Int16Array, sampleRate = SR): void {
  fs.writeFileSync(
    file,
    Buffer.concat([wavHeader16(pcm.length, sampleRate), Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]),
  );
}

/** Samples of a 16-bit PCM WAV (sox output: mono, 16 kHz). */
function readPcm16(file: string): Int16Array {
  const b = fs.readFileSync(file);
  let at = 12;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'data') {
      const n = Math.min(size, b.length - at - 8) >> 1;
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(at + 8 + 2 * i);
      return out;
    }
    at += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

// ------------------------------------------------------------------------------------------ 1. inputs

const SUBJECTS = [
  'the old fisherman',
  'my neighbour',
  'a tired student',
  'the committee',
  'our teacher',
  'the little girl',
  'everyone in the village',
  'the new manager',
  'his younger brother',
  'a stranger from the city',
  'the orchestra',
  'the nurse on duty',
];
const VERBS = [
  'painted',
  'forgot about',
  'carried',
  'talked about',
  'found',
  'waited for',
  'cleaned',
  'argued over',
  'remembered',
  'delivered',
  'repaired',
  'laughed at',
];
const OBJECTS = [
  'the broken window',
  'a letter from abroad',
  'the red bicycle',
  'the morning train',
  'an enormous cake',
  'the garden fence',
  'the missing keys',
  'a box of old photographs',
  'the kitchen table',
  'the last bus home',
  'a basket of apples',
  'the wooden boat',
];
const TAILS = [
  'before the storm arrived',
  'without saying a word',
  'on a cold winter evening',
  'while the others were asleep',
  'after the long meeting',
  'just like last year',
  'in the middle of the night',
  'because nobody else would',
  'and then went straight home',
  'with a great deal of patience',
  'as the sun was setting',
  'for the third time this week',
];
const OPENERS = ['Honestly,', 'Yesterday', 'I cannot believe that', 'Of course', 'Well,', 'Apparently', ''];
const VOICES = [
  'en-us',
  'en-us+m3',
  'en-us+f2',
  'en-gb',
  'en-gb+f4',
  'en-gb-scotland',
  'en-gb-x-rp+m5',
  'en-029',
  'en-gb-x-gbclan+f1',
  'en-us+m7',
];

function sentence(rnd: () => number, words: number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const parts: string[] = [];
  let count = 0;
  while (count < words) {
    const clause = [pick(OPENERS), pick(SUBJECTS), pick(VERBS), pick(OBJECTS), rnd() < 0.6 ? pick(TAILS) : '']
      .filter(Boolean)
      .join(' ');
    parts.push(clause);
    count += clause.split(' ').length;
  }
  const text = parts.join(', and ');
  return text.charAt(0).toUpperCase() + text.slice(1) + (rnd() < 0.2 ? '!' : rnd() < 0.2 ? '?' : '.');
}

interface Utterance {
  key: string;
  path: string;
  text: string | null;
  durationS: number;
}

async function makeInputs(): Promise<{ utterances: Utterance[]; longFile: string; transcripts: string }> {
  const dir = path.join(WORK, 'inputs');
  fs.mkdirSync(dir, { recursive: true });
  const manifestFile = path.join(dir, `manifest-${CFG.utterances}.json`);
  // the random bundles' tokenizer is trained on a fixed text set (not on the inputs, whose number varies)
  const transcripts = path.join(dir, 'tokenizer-corpus.txt');
  if (!fs.existsSync(transcripts)) {
    const rnd = prng(7);
    const lines = Array.from({ length: 400 }, () => sentence(rnd, 6 + Math.floor(rnd() * 20)));
    fs.writeFileSync(transcripts, lines.join('\n') + '\n');
  }
  let utterances: Utterance[];
  if (fs.existsSync(manifestFile)) {
    utterances = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Utterance[];
    log(`inputs: reusing ${utterances.length} utterances in ${path.relative(ROOT, dir)}`);
  } else {
    const t0 = Date.now();
    const rnd = prng(20240601);
    const specs = Array.from({ length: CFG.utterances }, (_, i) => {
      const target = 2 + rnd() * 6;
      const wpm = Math.round(110 + rnd() * 130);
      const pitch = Math.round(25 + rnd() * 50);
      const voice = VOICES[Math.floor(rnd() * VOICES.length)]!;
      const text = sentence(rnd, Math.max(3, Math.round((target * wpm) / 60)));
      return { i, target, wpm, pitch, voice, text };
    });
    utterances = new Array(specs.length);
    let next = 0;
    const worker = async () => {
      while (next < specs.length) {
        const s = specs[next++]!;
        const key = `utt-${String(s.i).padStart(4, '0')}`;
        const raw = path.join(dir, `${key}.raw.wav`);
        const file = path.join(dir, `${key}.wav`);
        await run('espeak-ng', ['-v', s.voice, '-s', String(s.wpm), '-p', String(s.pitch), '-w', raw, s.text]);
        await run('sox', [raw, '-r', String(SR), '-c', '1', '-b', '16', file]);
        fs.rmSync(raw);
        // 2–8 s: trim the end, or pad with silence
        let pcm = readPcm16(file);
        const want = Math.min(8 * SR, Math.max(2 * SR, pcm.length));
        if (want !== pcm.length) {
          const out = new Int16Array(want);
          out.set(pcm.subarray(0, want));
          pcm = out;
          writeWav(file, pcm);
        }
        utterances[s.i] = { key, path: file, text: s.text, durationS: pcm.length / SR };
      }
    };
    await Promise.all([worker(), worker()]);
    fs.writeFileSync(manifestFile, JSON.stringify(utterances));
    log(`inputs: ${utterances.length} utterances in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const longFile = path.join(dir, `long-${CFG.longSeconds}s.wav`);
  if (!fs.existsSync(longFile)) {
    const total = CFG.longSeconds * SR;
    const pcm = new Int16Array(total);
    let at = 0;
    for (let i = 0; at < total; i = (i + 1) % utterances.length) {
      const clip = readPcm16(utterances[i]!.path);
      pcm.set(clip.subarray(0, Math.max(0, total - at)), at);
      at += clip.length + Math.round(0.3 * SR);
    }
    writeWav(longFile, pcm);
  }
  return { utterances, longFile, transcripts };
}

// ------------------------------------------------------------------------------------------ 2. bundles, OpenBLAS

interface Bundles {
  matmul: Record<string, string>;
  [model: string]: { dir: string; source: string } | Record<string, string>;
}

async function makeBundles(transcripts: string): Promise<Bundles> {
  log('bundles (the first base export takes a few minutes) …');
  const out = await run(CFG.python, [
    path.join(ROOT, 'benchmarks', 'inference_bundles.py'),
    '--out',
    path.join(WORK, 'bundles'),
    '--transcripts',
    transcripts,
    '--models',
    [...new Set([...CFG.models, ...CFG.longModels, ...(CFG.whatIfs ? ['base', 'base-sq'] : [])])].join(','),
    '--demo',
    DEMO_BUNDLE,
  ]);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Bundles;
}

/** A folder holding OpenBLAS's libblas.so.3 from Debian's libopenblas0-pthread, or null. */
function openBlasDir(): string | null {
  const dest = path.join(WORK, 'openblas');
  const find = () => {
    if (!fs.existsSync(dest)) return null;
    const hit = (fs.readdirSync(dest, { recursive: true }) as string[]).find((f) =>
      f.endsWith(path.join('openblas-pthread', 'libblas.so.3')),
    );
    return hit ? path.dirname(path.join(dest, hit)) : null;
  };
  if (find()) return find();
  const archives = '/var/cache/apt/archives';
  let deb = fs.existsSync(archives)
    ? fs
        .readdirSync(archives)
        .filter((f) => /^libopenblas0-pthread_.*\.deb$/.test(f))
        .map((f) => path.join(archives, f))[0]
    : undefined;
  if (!deb) {
    // `apt-get download` fetches the package file only (nothing is installed)
    fs.mkdirSync(dest, { recursive: true });
    spawnSync('apt-get', ['download', 'libopenblas0-pthread'], { cwd: dest, stdio: 'ignore' });
    deb = fs
      .readdirSync(dest)
      .filter((f) => f.endsWith('.deb'))
      .map((f) => path.join(dest, f))[0];
  }
  if (!deb) return null;
  spawnSync('dpkg-deb', ['-x', deb, dest], { stdio: 'ignore' });
  return find();
}

// ------------------------------------------------------------------------------------------ 3–6. measurements

type Side = 'engine' | 'torch-openblas' | 'torch-netlib';

interface RunResult {
  side: Side;
  model: string;
  threads: number;
  subset: string;
  items: number;
  audioSeconds: number;
  runS: number;
  loadS: number;
  cpuS: number;
  xRealTime: number;
  maxRssMiB: number;
  rssAfterLoadMiB: number;
  loadavg: number;
  blas?: string;
  batches?: number;
  macsExecuted?: Record<string, number>;
  macsUseful?: Record<string, number>;
  logits: (number[] | null)[];
  variant?: string;
  ops?: { op: string; ms: number; calls: number }[];
}

let jobCounter = 0;
let openblas: string | null = null;

async function engineRun(job: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = `job-${process.pid}-${jobCounter++}`;
  const jobFile = path.join(WORK, `${id}.json`);
  const outFile = path.join(WORK, `${id}.out.json`);
  fs.writeFileSync(jobFile, JSON.stringify(job));
  try {
    await run(process.execPath, [
      '--import',
      'tsx',
      path.join(ROOT, 'benchmarks', 'inference-engine-run.ts'),
      jobFile,
      outFile,
    ]);
    return JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, unknown>;
  } finally {
    fs.rmSync(jobFile, { force: true });
    fs.rmSync(outFile, { force: true });
  }
}

async function referenceRun(job: Record<string, unknown>, blas: 'openblas' | 'netlib', threads: number) {
  const id = `job-${process.pid}-${jobCounter++}`;
  const jobFile = path.join(WORK, `${id}.json`);
  const outFile = path.join(WORK, `${id}.out.json`);
  fs.writeFileSync(jobFile, JSON.stringify(job));
  const extra: NodeJS.ProcessEnv = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  if (blas === 'openblas') extra.LD_LIBRARY_PATH = [openblas, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  try {
    await run(CFG.python, [path.join(ROOT, 'benchmarks', 'inference_reference.py'), jobFile, outFile], { env: extra });
    return JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, unknown>;
  } finally {
    fs.rmSync(jobFile, { force: true });
    fs.rmSync(outFile, { force: true });
  }
}

async function predictRun(
  side: Side,
  model: string,
  bundle: string,
  manifest: string,
  subset: string,
  threads: number,
  extra: { batchSeconds?: number; session?: Record<string, unknown>; profile?: string; variant?: string } = {},
): Promise<RunResult> {
  const load = os.loadavg()[0]!;
  sampleLoad();
  const batchSeconds = extra.batchSeconds ?? CFG.batchSeconds;
  let r: RunResult;
  if (side === 'engine') {
    const o = await engineRun({
      mode: 'predict',
      bundle,
      manifest,
      threads,
      batchSeconds,
      session: extra.session,
      profile: extra.profile,
    });
    r = {
      side,
      model,
      threads,
      subset,
      items: o.items as number,
      audioSeconds: o.audioSeconds as number,
      runS: (o.runMs as number) / 1000,
      loadS: (o.loadMs as number) / 1000,
      cpuS: (o.cpuMs as number) / 1000,
      xRealTime: 0,
      maxRssMiB: o.maxRssMiB as number,
      rssAfterLoadMiB: o.rssAfterLoadMiB as number,
      loadavg: load,
      logits: o.logits as (number[] | null)[],
      ops: o.ops as RunResult['ops'],
    };
    if ((o.failed as string[]).length) log(`  engine failures: ${(o.failed as string[]).slice(0, 3).join('; ')}`);
  } else {
    const blas = side === 'torch-openblas' ? 'openblas' : 'netlib';
    const o = await referenceRun(
      { mode: 'predict', bundle, manifest, threads, batch_seconds: batchSeconds },
      blas,
      threads,
    );
    r = {
      side,
      model,
      threads,
      subset,
      items: o.items as number,
      audioSeconds: o.audio_seconds as number,
      runS: o.run_s as number,
      loadS: o.load_s as number,
      cpuS: o.cpu_s as number,
      xRealTime: 0,
      maxRssMiB: o.max_rss_mib as number,
      rssAfterLoadMiB: o.rss_after_load_mib as number,
      loadavg: load,
      blas: o.blas as string,
      batches: o.batches as number,
      macsExecuted: o.macs_executed as Record<string, number>,
      macsUseful: o.macs_useful as Record<string, number>,
      logits: o.logits as (number[] | null)[],
    };
  }
  r.xRealTime = r.audioSeconds / r.runS;
  if (extra.variant) r.variant = extra.variant;
  log(
    `  ${side.padEnd(14)} ${model} N=${threads} ${subset}${extra.variant ? ` [${extra.variant}]` : ''}: ` +
      `${fx(r.audioSeconds, 0)} s audio in ${fx(r.runS, 2)} s = ${fx(r.xRealTime)}× RT, cpu ${fx(r.cpuS, 1)} s, ` +
      `peak RSS ${fx(r.maxRssMiB, 0)} MiB (load avg ${fx(load, 2)})`,
  );
  return r;
}

function maxLogitDiff(a: RunResult, b: RunResult): number {
  let m = 0;
  a.logits.forEach((la, i) => {
    const lb = b.logits[i];
    if (!la || !lb) return;
    la.forEach((v, k) => (m = Math.max(m, Math.abs(v - lb[k]!))));
  });
  return m;
}

const sum = (d: Record<string, number> | undefined) => Object.values(d ?? {}).reduce((a, b) => a + b, 0);

// ------------------------------------------------------------------------------------------ main

const machine = {
  nproc: os.availableParallelism(),
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  onnxruntimeNode: (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version,
  torch: spawnSync(CFG.python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim(),
  date: new Date().toISOString(),
  loadavgAtStart: os.loadavg(),
};
log(
  `machine: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, torch ${machine.torch}`,
);
log(`config: ${JSON.stringify(CFG)}`);

const { utterances, longFile, transcripts } = await makeInputs();

// 7. end to end (benchmarks/end-to-end.ts): `wavfusion predict` on 16 kHz WAV, 44.1 kHz WAV, 48 kHz FLAC,
// MP3 and Opus of the same utterances, before/after the pipelined front end, interleaved.
const runEndToEnd = async () => {
  const e2e = await endToEnd({
    root: ROOT,
    work: path.join(WORK, 'e2e'),
    utterances: utterances.slice(0, CFG.e2eUtterances),
    model:
      CFG.e2eModel === 'tiny'
        ? DEMO_BUNDLE
        : (((await makeBundles(transcripts))[CFG.e2eModel] as { dir: string } | undefined)?.dir ??
          `no ${CFG.e2eModel} bundle`),
    threads: Math.max(...CFG.threads),
    reps: CFG.e2eReps,
    log,
  });
  fs.writeFileSync(path.join(ROOT, 'benchmarks', '.work', 'inference-e2e.json'), JSON.stringify(e2e, null, 2));
  if (!CFG.e2eLongHours) return e2e.markdown;
  const long = await longStream({
    root: ROOT,
    work: path.join(WORK, 'e2e'),
    sourceWav: longFile,
    sourceSeconds: CFG.longSeconds,
    hours: CFG.e2eLongHours,
    model: DEMO_BUNDLE,
    threads: Math.max(...CFG.threads),
    log,
  });
  return [...e2e.markdown, '', ...long];
};
if (CFG.e2eOnly) {
  const section = (await runEndToEnd()).join('\n');
  fs.writeFileSync(path.join(ROOT, 'benchmarks', '.work', 'inference-e2e.md'), section + '\n');
  console.log('\n' + section + '\n');
  process.exit(0);
}
const bundles = await makeBundles(transcripts);
openblas = openBlasDir();
log(
  openblas
    ? `OpenBLAS for the reference: ${path.relative(ROOT, openblas)}`
    : 'OpenBLAS not available: reference runs with the system BLAS only',
);
const refSides: Side[] = openblas ? ['torch-openblas', 'torch-netlib'] : ['torch-netlib'];

const writeManifest = (name: string, items: Utterance[]) => {
  const file = path.join(WORK, `manifest-${name}.json`);
  fs.writeFileSync(file, JSON.stringify(items.map((u) => ({ key: u.key, path: u.path, text: u.text }))));
  return file;
};
const audioOf = (items: Utterance[]) => items.reduce((s, u) => s + u.durationS, 0);

// 3. matrix-multiply peak
const matmulShapes: [number, number, number][] = [
  [2048, 2048, 2048],
  [4000, 768, 3072],
];
const peak: { side: string; threads: number; shape: number[]; gflops: number; medianGflops: number }[] = [];
for (const threads of CFG.threads) {
  sampleLoad();
  const ortRes = (await engineRun({
    mode: 'matmul',
    threads,
    seconds: quick ? 1 : 3,
    graphs: matmulShapes.map(([m, k, n]) => ({ path: bundles.matmul[`${k}x${n}`], m, k, n })),
  })) as { results: { shape: number[]; gflops: number; medianGflops: number }[] };
  for (const r of ortRes.results) peak.push({ side: 'onnxruntime', threads, ...r });
  for (const blas of openblas ? (['openblas', 'netlib'] as const) : (['netlib'] as const)) {
    const shapes = blas === 'netlib' ? [[1024, 1024, 1024]] : matmulShapes;
    const t = (await referenceRun({ mode: 'matmul', threads, seconds: quick ? 1 : 3, shapes }, blas, threads)) as {
      results: { shape: number[]; gflops: number; median_gflops: number }[];
    };
    for (const r of t.results)
      peak.push({ side: `torch-${blas}`, threads, shape: r.shape, gflops: r.gflops, medianGflops: r.median_gflops });
  }
}
for (const p of peak) log(`matmul ${p.side} N=${p.threads} ${p.shape.join('×')}: ${fx(p.gflops)} GFLOP/s (best)`);

// 4. throughput, interleaved
const runs: RunResult[] = [];
const comparisons: Record<string, unknown>[] = [];
for (const model of CFG.models) {
  const b = bundles[model] as { dir: string; source: string } | undefined;
  if (!b) continue;
  const main = model === 'base' ? utterances.slice(0, CFG.baseUtterances) : utterances;
  const mainName = model === 'base' ? `first ${main.length} utterances` : `all ${main.length} utterances`;
  const mainManifest = writeManifest(`${model}-main`, main);
  const netlibItems = model === 'base' ? utterances.slice(0, CFG.netlibBaseUtterances) : main;
  const netlibName = model === 'base' ? `first ${netlibItems.length} utterances` : mainName;
  const netlibManifest = writeManifest(`${model}-netlib`, netlibItems);
  for (const threads of CFG.threads) {
    const reps = threads === Math.max(...CFG.threads) ? CFG.reps : 1;
    log(`${model}, ${threads} thread(s): ${mainName} (${fx(audioOf(main), 0)} s audio), ${reps} rep(s) per side`);
    for (const refSide of refSides) {
      const sameSubset = refSide === 'torch-openblas' || model !== 'base';
      const manifest = sameSubset ? mainManifest : netlibManifest;
      const subset = sameSubset ? mainName : netlibName;
      const pairs: [RunResult, RunResult][] = [];
      const n = refSide === 'torch-netlib' ? 1 : reps;
      for (let i = 0; i < n; i++) {
        // E, R, E, R …; the netlib pair reuses the OpenBLAS pairs' engine runs when the subset is the same
        const reuse = refSide === 'torch-netlib' && sameSubset && openblas;
        const e = reuse
          ? runs.find((r) => r.side === 'engine' && r.model === model && r.threads === threads && r.subset === subset)!
          : await predictRun('engine', model, b.dir, manifest, subset, threads);
        if (!reuse) runs.push(e);
        const r = await predictRun(refSide, model, b.dir, manifest, subset, threads);
        runs.push(r);
        pairs.push([e, r]);
      }
      const ratios = pairs.map(([e, r]) => e.xRealTime / r.xRealTime);
      comparisons.push({
        model,
        threads,
        reference: refSide,
        subset,
        audioSeconds: pairs[0]![0].audioSeconds,
        engineXRealTime: median(pairs.map(([e]) => e.xRealTime)),
        referenceXRealTime: median(pairs.map(([, r]) => r.xRealTime)),
        engineAudioSPerS: median(pairs.map(([e]) => e.xRealTime)),
        referenceAudioSPerS: median(pairs.map(([, r]) => r.xRealTime)),
        ratio: median(ratios),
        ratios,
        engineMaxRssMiB: Math.max(...pairs.map(([e]) => e.maxRssMiB)),
        referenceMaxRssMiB: Math.max(...pairs.map(([, r]) => r.maxRssMiB)),
        engineCpuSPerAudioS: median(pairs.map(([e]) => e.cpuS / e.audioSeconds)),
        referenceCpuSPerAudioS: median(pairs.map(([, r]) => r.cpuS / r.audioSeconds)),
        maxAbsLogitDiff: Math.max(...pairs.map(([e, r]) => maxLogitDiff(e, r))),
        loadavg: pairs.flatMap(([e, r]) => [e.loadavg, r.loadavg]),
        macsExecuted: pairs[0]![1].macsExecuted,
        macsUseful: pairs[0]![1].macsUseful,
      });
    }
  }
}

// 5. the long file through the engine
const longRuns: RunResult[] = [];
const longManifest = path.join(WORK, 'manifest-long.json');
fs.writeFileSync(longManifest, JSON.stringify([{ key: 'long', path: longFile, text: null }]));
for (const model of CFG.longModels) {
  const b = bundles[model] as { dir: string } | undefined;
  if (!b) continue;
  const threads = Math.max(...CFG.threads);
  log(`long file (${CFG.longSeconds} s), ${model}, ${threads} threads`);
  longRuns.push(await predictRun('engine', model, b.dir, longManifest, `${CFG.longSeconds} s file`, threads));
}

// 6. what-ifs on base (onnxruntime session options, batchSeconds, operator profile)
const whatIfs: RunResult[] = [];
const loadMemory: {
  name: string;
  part: string;
  rssBeforeMiB: number;
  loadMs: number;
  rssMiB: number;
  maxRssMiB: number;
}[] = [];
if (CFG.whatIfs && bundles.base) {
  const b = bundles.base as { dir: string };
  const items = utterances.slice(0, CFG.whatIfUtterances);
  const manifest = writeManifest('base-whatif', items);
  const subset = `first ${items.length} utterances`;
  const threads = Math.max(...CFG.threads);
  const variants: { variant: string; session?: Record<string, unknown>; batchSeconds?: number; bundle?: string }[] = [
    { variant: 'engine as is' },
    { variant: 'graph with d * d instead of Pow(d, 2) (base-sq)', bundle: 'base-sq' },
    { variant: 'same options, session swapped', session: {} },
    { variant: 'graphOptimizationLevel extended', session: { graphOptimizationLevel: 'extended' } },
    { variant: 'enableCpuMemArena false', session: { enableCpuMemArena: false } },
    { variant: 'no spinning', session: { extra: { session: { intra_op: { allow_spinning: '0' } } } } },
    { variant: 'batchSeconds 15', batchSeconds: 15 },
    { variant: 'batchSeconds 30', batchSeconds: 30 },
    { variant: 'batchSeconds 120', batchSeconds: 120 },
  ];
  // INFER_WHATIF_ONLY: variant names containing one of these strings (plus "engine as is")
  const chosen = CFG.whatIfOnly.length
    ? variants.filter((v) => v.variant === 'engine as is' || CFG.whatIfOnly.some((w) => v.variant.includes(w)))
    : variants;
  log(`what-ifs on base, ${subset}, ${threads} threads`);
  for (let rep = 0; rep < 2; rep++) {
    for (const v of rep ? [...chosen].reverse() : chosen) {
      const dir = (bundles[v.bundle ?? 'base'] as { dir: string } | undefined)?.dir ?? b.dir;
      whatIfs.push(await predictRun('engine', 'base', dir, manifest, subset, threads, v));
    }
  }
  for (const part of CFG.whatIfOnly.length
    ? []
    : [
        { name: 'readModelBundle (reads model.onnx into memory to hash it)', part: 'bundle' },
        { name: 'onnxruntime session (engine options)', part: 'session' },
        {
          name: 'onnxruntime session, session.disable_prepacking',
          part: 'session',
          session: { extra: { session: { disable_prepacking: '1' } } },
        },
      ]) {
    const o = await engineRun({ mode: 'load-memory', bundle: b.dir, threads, ...part });
    loadMemory.push({ ...part, ...(o as { rssBeforeMiB: number; loadMs: number; rssMiB: number; maxRssMiB: number }) });
    log(
      `  load memory, ${part.name}: peak RSS ${fx(o.maxRssMiB as number, 0)} MiB in ${fx((o.loadMs as number) / 1000, 1)} s`,
    );
  }
  if (!CFG.whatIfOnly.length) {
    const prof = await predictRun('engine', 'base', b.dir, manifest, subset, threads, {
      variant: 'onnxruntime profile',
      session: {},
      profile: path.join(WORK, 'ort-profile'),
    });
    whatIfs.push(prof);
    if (openblas) {
      const o = await referenceRun(
        { mode: 'profile', bundle: b.dir, manifest, threads, batch_seconds: CFG.batchSeconds },
        'openblas',
        threads,
      );
      whatIfs.push({ ...prof, side: 'torch-openblas', variant: 'torch profile', ops: o.ops as RunResult['ops'] });
    }
  }
}

// ------------------------------------------------------------------------------------------ report

const baseCmp = comparisons.find(
  (c) =>
    c.model === 'base' &&
    c.reference === (openblas ? 'torch-openblas' : 'torch-netlib') &&
    c.threads === Math.max(...CFG.threads),
);
const flops = (() => {
  if (!baseCmp) return null;
  const executed = 2 * sum(baseCmp.macsExecuted as Record<string, number>);
  const useful = 2 * sum(baseCmp.macsUseful as Record<string, number>);
  const seconds = baseCmp.audioSeconds as number;
  const threads = baseCmp.threads as number;
  const ortPeak = Math.max(
    ...peak.filter((p) => p.side === 'onnxruntime' && p.threads === threads).map((p) => p.gflops),
  );
  const engineGflops = (executed / 1e9) * ((baseCmp.engineXRealTime as number) / seconds);
  const breakdown = Object.fromEntries(
    Object.entries(baseCmp.macsUseful as Record<string, number>).map(([k, v]) => [k, (2 * v) / seconds / 1e9]),
  );
  return {
    method:
      'analytic: multiply-accumulates of every conv / linear / attention matmul of the exported graph, from the config and each tensor shape (benchmarks/inference_reference.py macs()); FLOPs = 2 × MACs; elementwise ops not counted',
    usefulGflopPerAudioS: useful / seconds / 1e9,
    executedGflopPerAudioS: executed / seconds / 1e9,
    paddingOverhead: executed / useful - 1,
    breakdownGflopPerAudioS: breakdown,
    threads,
    onnxruntimeMatmulPeakGflops: ortPeak,
    engineGflops,
    fractionOfPeak: engineGflops / ortPeak,
    xRealTimeAtPeak: ortPeak / (executed / seconds / 1e9),
  };
})();

const results = {
  command: `npm run bench:inference${quick ? ' (INFER_QUICK=1)' : ''}`,
  machine,
  config: CFG,
  bundles,
  openblas: openblas ? path.relative(ROOT, openblas) : null,
  inputs: { utterances: utterances.length, audioSeconds: audioOf(utterances), longFileSeconds: CFG.longSeconds },
  matmulPeak: peak,
  comparisons,
  flops,
  longFile: longRuns.map(({ logits: _l, ...r }) => r),
  whatIfs: whatIfs.map(({ logits: _l, ...r }) => r),
  loadMemory,
  runs: runs.map(({ logits: _l, ...r }) => r),
  loadavg: { min: Math.min(...loads), max: Math.max(...loads), median: median(loads) },
  totalS: (Date.now() - started) / 1000,
};
fs.writeFileSync(RESULTS_JSON, JSON.stringify(results, null, 2));

// Markdown
const md: string[] = [];
md.push(
  `Command: \`${results.command}\` — ${machine.date.slice(0, 10)}; machine: ${machine.nproc} CPUs (nproc), ${machine.cpu}, ` +
    `${machine.memoryGiB} GiB; node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, torch ${machine.torch}` +
    ` (Debian)${openblas ? ', OpenBLAS 0.3 via LD_LIBRARY_PATH for the "torch + OpenBLAS" reference' : ''}. ` +
    `Load average (1 min) during the runs: median ${fx(results.loadavg.median, 2)}, ${fx(results.loadavg.min, 2)}–${fx(results.loadavg.max, 2)}. ` +
    `Inputs: ${utterances.length} espeak-ng utterances (${fx(audioOf(utterances), 0)} s of audio), batchSeconds ${CFG.batchSeconds}. Total ${fx(results.totalS, 0)} s.`,
  '',
);
md.push(
  '| model | threads | reference | audio (subset) | engine × RT | reference × RT | engine / reference | engine peak RSS | reference peak RSS | CPU-s per audio-s (E / R) | max abs logit diff |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const c of comparisons) {
  const ratios = c.ratios as number[];
  md.push(
    `| ${c.model} | ${c.threads} | ${c.reference === 'torch-openblas' ? 'torch + OpenBLAS' : 'torch as installed (netlib BLAS)'} | ` +
      `${fx(c.audioSeconds as number, 0)} s (${c.subset}) | ${fx(c.engineXRealTime as number)} | ${fx(c.referenceXRealTime as number, (c.referenceXRealTime as number) < 1 ? 2 : 1)} | ` +
      `**${fx(c.ratio as number, 2)}×**${ratios.length > 1 ? ` (${ratios.map((r) => fx(r, 2)).join(', ')})` : ''} | ` +
      `${fx(c.engineMaxRssMiB as number, 0)} MiB | ${fx(c.referenceMaxRssMiB as number, 0)} MiB | ` +
      `${fx(c.engineCpuSPerAudioS as number, 3)} / ${fx(c.referenceCpuSPerAudioS as number, 3)} | ${(c.maxAbsLogitDiff as number).toExponential(1)} |`,
  );
}
md.push(
  '',
  '× RT = audio seconds processed per wall-clock second (after model load). Peak RSS = getrusage maxRSS of the process (model load included).',
  '',
);
md.push(
  '| matrix multiply (float32) | threads | M×K×N | GFLOP/s (best) | GFLOP/s (median) |',
  '| --- | --- | --- | --- | --- |',
);
for (const p of peak)
  md.push(`| ${p.side} | ${p.threads} | ${p.shape.join('×')} | ${fx(p.gflops)} | ${fx(p.medianGflops)} |`);
if (flops) {
  md.push(
    '',
    `FLOPs of \`base\` (${flops.method}): **${fx(flops.usefulGflopPerAudioS, 2)} GFLOP per audio second** for these utterances ` +
      `(${Object.entries(flops.breakdownGflopPerAudioS)
        .map(([k, v]) => `${k.replace(/_/g, ' ')} ${fx(v, 2)}`)
        .join(
          ', ',
        )}); ${fx(flops.executedGflopPerAudioS, 2)} as executed with batch padding (+${fx(100 * flops.paddingOverhead)} %). ` +
      `At ${flops.threads} threads the engine sustains ${fx(flops.engineGflops)} GFLOP/s = **${fx(100 * flops.fractionOfPeak)} % of onnxruntime's measured matmul peak** ` +
      `(${fx(flops.onnxruntimeMatmulPeakGflops)} GFLOP/s); at that peak, base would run at ${fx(flops.xRealTimeAtPeak)}× real time.`,
  );
}
if (longRuns.length) {
  md.push(
    '',
    '| long file (engine) | threads | audio | × RT | wall | peak RSS | RSS after load |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of longRuns)
    md.push(
      `| ${r.model} | ${r.threads} | ${fx(r.audioSeconds, 0)} s | ${fx(r.xRealTime)} | ${fx(r.runS, 1)} s | ${fx(r.maxRssMiB, 0)} MiB | ${fx(r.rssAfterLoadMiB, 0)} MiB |`,
    );
}
if (whatIfs.length) {
  md.push(
    '',
    `What-ifs (engine, base, ${whatIfs[0]!.subset}, ${whatIfs[0]!.threads} threads; 2 runs each, order reversed in the second; CPU cost = median process CPU time per audio second, less sensitive to the other load than wall time):`,
    '',
    '| variant | × RT (runs) | CPU-s per audio-s (runs) | CPU cost vs "engine as is" | peak RSS | max abs logit diff vs "engine as is" |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  const asIs = whatIfs.filter((w) => w.variant === 'engine as is');
  const cpuOf = (w: RunResult) => w.cpuS / w.audioSeconds;
  const baseCpu = median(asIs.map(cpuOf));
  const names = [...new Set(whatIfs.filter((w) => !w.ops).map((w) => w.variant!))];
  for (const v of names) {
    const ws = whatIfs.filter((w) => w.variant === v);
    md.push(
      `| ${v} | ${ws.map((w) => fx(w.xRealTime, 2)).join(', ')} | ${ws.map((w) => fx(cpuOf(w), 3)).join(', ')} | ` +
        `${fx(median(ws.map(cpuOf)) / baseCpu, 2)} | ${fx(Math.max(...ws.map((w) => w.maxRssMiB)), 0)} MiB | ` +
        `${asIs[0] ? maxLogitDiff(ws[0]!, asIs[0]).toExponential(1) : '–'} |`,
    );
  }
  if (loadMemory.length) {
    md.push('', '| loading base (engine process) | peak RSS | RSS after | time |', '| --- | --- | --- | --- |');
    for (const l of loadMemory)
      md.push(`| ${l.name} | ${fx(l.maxRssMiB, 0)} MiB | ${fx(l.rssMiB, 0)} MiB | ${fx(l.loadMs / 1000, 1)} s |`);
  }
  for (const w of whatIfs.filter((x) => x.ops)) {
    const total = w.ops!.reduce((s, o) => s + (o.ms ?? 0), 0);
    md.push(
      '',
      `${w.variant}: ${w
        .ops!.slice(0, 8)
        .map((o) => `${o.op} ${fx((100 * (o.ms ?? 0)) / total)} %`)
        .join(', ')}`,
    );
  }
}
if (CFG.e2e) md.push('', ...(await runEndToEnd()));
const section = md.join('\n');
fs.writeFileSync(RESULTS_MD, section + '\n');
console.log('\n' + section + '\n');

if (CFG.docs) {
  const BEGIN = '<!-- bench:inference results: begin (written by npm run bench:inference with INFER_DOCS=1) -->';
  const END = '<!-- bench:inference results: end -->';
  const block = `${BEGIN}\n\n${section}\n\n${END}`;
  const current = fs.existsSync(DOCS) ? fs.readFileSync(DOCS, 'utf8') : '';
  let next: string;
  if (current.includes(BEGIN) && current.includes(END)) {
    next = current.slice(0, current.indexOf(BEGIN)) + block + current.slice(current.indexOf(END) + END.length);
  } else {
    next = `${current}${current && !current.endsWith('\n') ? '\n' : ''}${current ? '\n' : ''}## Inference\n\n${block}\n`;
  }
  fs.mkdirSync(path.dirname(DOCS), { recursive: true });
  fs.writeFileSync(DOCS, next);
  log(`results written into ${path.relative(ROOT, DOCS)}`);
}
log(`done in ${fx(results.totalS, 0)} s; ${path.relative(ROOT, RESULTS_JSON)}, ${path.relative(ROOT, RESULTS_MD)}`);
