/**
 * Importing one long recording (issue 12, item 5): wall time and the process's peak RSS (getrusage
 * maxRSS) for `IMPORT_HOURS` (10) hours as 16 kHz mono 16-bit WAV, 48 kHz 24 kbit/s Opus, 16 kHz
 * 32 kbit/s MP3 and 16 kHz FLAC, each
 * imported into a new project through the studio's import job (checksum, peaks, one utterance for the
 * whole file), each in its own process so each peak is its own.
 *
 *   node --expose-gc --import tsx benchmarks/import-long.bench.ts          # both formats
 *   node --expose-gc --import tsx benchmarks/import-long.bench.ts <file>   # one file (the child)
 *
 * Inputs are made once under benchmarks/.work/import-long (ffmpeg: a 180 Hz tone with a slow tremolo).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work', 'import-long');
const HOURS = Number(process.env.IMPORT_HOURS ?? 10);
const MiB = 2 ** 20;

async function child(file: string, exportMode: 'streamed' | 'whole'): Promise<void> {
  const { Studio } = await import('../src/main/api/studio');
  const { ExportService } = await import('../src/main/export/export-service');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-import-long-'));
  process.env.WAVFUSION_HOME = path.join(dir, 'home');
  global.gc?.();
  const baseline = process.memoryUsage().rss / MiB;
  const studio = Studio.open(path.join(dir, 'p.sqlite'));
  const t = performance.now();
  const id = studio.jobs.start('import', `Import ${file}`, (ctx) => studio.importer.importPath(file, ctx));
  const status = await studio.jobs.wait(id);
  const seconds = (performance.now() - t) / 1000;
  const info = studio.info();
  const peakMiB = process.resourceUsage().maxRSS / 1024; // the import's peak, before the windows below
  // The deep zoom's windows (20 s of the recording, as the player asks for them): far in, back an
  // hour, then the next window on. Ogg Opus seeks by its pages; before, a jump back decoded from the start.
  const rec = studio.store.recordings.list()[0]!;
  const windows: { at: number; ms: number }[] = [];
  for (const at of [rec.durationS - 3600, rec.durationS - 7200, rec.durationS - 7180].map((t) => Math.max(0, t))) {
    const t0 = performance.now();
    await studio.waveforms.recordingClip(rec.id, at, at + 20);
    windows.push({ at, ms: performance.now() - t0 });
  }
  // The whole-recording utterance's clip as the player streams it: its first MiB, and a MiB at 9 hours
  // (made for the range read; before, the whole clip's WAV was made first).
  const utterance = studio.store.utterances.overlapping(rec.id, 0, rec.durationS)[0]!;
  const media = await studio.waveforms.clipMedia(utterance.id, 0.5);
  const clip: { at: string; ms: number }[] = [];
  for (const [at, offset] of [
    ['first MiB', 0],
    ['MiB at 9 h', Math.floor((media.size * Math.max(0, rec.durationS - 3600)) / rec.durationS)],
  ] as const) {
    const t0 = performance.now();
    await media.read(offset, offset + 2 ** 20);
    clip.push({ at, ms: performance.now() - t0 });
  }
  const clipPeakMiB = process.resourceUsage().maxRSS / 1024;
  // An audiofolder export of the labelled whole-recording utterance: its 16 kHz clip is read, resampled
  // and written piece by piece ('streamed', the studio's way past 10 minutes) or made whole ('whole', as
  // before: the whole utterance's samples in memory).
  studio.annotations.setLabel(utterance.id, studio.store.labels.list()[0]!.id);
  const exporter = exportMode === 'whole' ? new ExportService(studio.store, studio.audio, Infinity) : studio.exporter;
  const t1 = performance.now();
  const exported = await exporter.export(
    { folder: path.join(dir, 'export') },
    { signal: new AbortController().signal, progress: () => undefined },
  );
  const exportSeconds = (performance.now() - t1) / 1000;
  const exportPeakMiB = process.resourceUsage().maxRSS / 1024;
  const exportMiB = exported.files
    .filter((f) => f.endsWith('.wav'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, 'export', f)).size / MiB, 0);
  await studio.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      status: status.state,
      error: status.error ?? null,
      seconds,
      baselineMiB: baseline,
      peakMiB,
      recordings: info.counts.recordings,
      windows,
      clip,
      clipSizeMiB: media.size / MiB,
      clipPeakMiB,
      exportSeconds,
      exportPeakMiB,
      exportMiB,
    }),
  );
}

/** The end-to-end inference bench's 10-hour Opus (speech looped), when it was made: encoding takes minutes. */
const E2E_OPUS = path.join(ROOT, 'benchmarks', '.work', 'inference', 'e2e', 'long', '10-hours', 'recording.opus');

function input(ext: 'wav' | 'opus' | 'mp3' | 'flac', hours = HOURS): string {
  fs.mkdirSync(WORK, { recursive: true });
  if (ext === 'opus' && hours === 10 && fs.existsSync(E2E_OPUS)) return E2E_OPUS;
  const file = path.join(WORK, `${hours}h.${ext}`);
  if (fs.existsSync(file)) return file;
  const tone = `sine=frequency=180:sample_rate=${ext === 'opus' ? 48000 : 16000}:duration=${hours * 3600}`;
  const codec =
    ext === 'wav'
      ? ['-c:a', 'pcm_s16le']
      : ext === 'mp3'
        ? ['-c:a', 'libmp3lame', '-b:a', '32k']
        : ext === 'flac'
          ? ['-c:a', 'flac']
          : ['-c:a', 'libopus', '-b:a', '24k'];
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', tone, '-af', 'tremolo=f=3:d=0.6', ...codec, file]);
  return file;
}

async function main(): Promise<void> {
  if (process.argv[2]) return child(process.argv[2], process.argv[3] === 'whole' ? 'whole' : 'streamed');
  const rows = [
    `Import of one ${HOURS}-hour recording into a new project (the studio's import job), ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}:`,
    '',
    '| file | size | import wall | peak RSS (process) | RSS before import | 20 s window clips: far in / an hour back / the next on | whole-recording clip (WAV size): first MiB / a MiB at 9 h, peak RSS after | audiofolder export of the whole-recording utterance (16 kHz WAV size): wall, peak RSS after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const runs: [ext: 'wav' | 'opus' | 'mp3' | 'flac', hours: number, mode: 'streamed' | 'whole'][] = [
    ['wav', HOURS, 'streamed'],
    ['opus', HOURS, 'streamed'],
    ['mp3', HOURS, 'streamed'],
    ['flac', HOURS, 'streamed'],
    // the export before it streamed, beside the streamed one, on an hour (ten would need ~7 GB)
    ['opus', 1, 'whole'],
    ['opus', 1, 'streamed'],
  ];
  for (const [ext, hours, mode] of runs) {
    const file = input(ext, hours);
    const run = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, file, mode], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`import of ${file} failed: ${run.stderr.slice(-2000)}`);
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      status: string;
      error: string | null;
      seconds: number;
      baselineMiB: number;
      peakMiB: number;
      recordings: number;
      windows: { at: number; ms: number }[];
      clip: { at: string; ms: number }[];
      clipSizeMiB: number;
      clipPeakMiB: number;
      exportSeconds: number;
      exportPeakMiB: number;
      exportMiB: number;
    };
    if (r.status !== 'succeeded' || r.recordings !== 1) throw new Error(`import of ${file}: ${r.status} ${r.error}`);
    rows.push(
      `| ${hours} h ${{ wav: '16 kHz mono 16-bit WAV', opus: '48 kHz 24 kbit/s Opus', mp3: '16 kHz 32 kbit/s MP3', flac: '16 kHz mono FLAC' }[ext]} | ${(fs.statSync(file).size / MiB).toFixed(0)} MiB | ${r.seconds.toFixed(1)} s | ${r.peakMiB.toFixed(0)} MiB | ${r.baselineMiB.toFixed(0)} MiB | ${r.windows.map((w) => `${(w.at / 3600).toFixed(2)} h: ${w.ms.toFixed(0)} ms`).join(' / ')} | (${r.clipSizeMiB.toFixed(0)} MiB) ${r.clip.map((c) => `${c.ms.toFixed(0)} ms`).join(' / ')}, ${r.clipPeakMiB.toFixed(0)} MiB | ${mode} (${r.exportMiB.toFixed(0)} MiB): ${r.exportSeconds.toFixed(1)} s, ${r.exportPeakMiB.toFixed(0)} MiB |`,
    );
    console.error(rows.at(-1));
  }
  console.log(rows.join('\n'));
}

await main();
