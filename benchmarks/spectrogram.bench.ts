/**
 * Spectrogram tiles (issue 12, item 3) of a 1-hour 16 kHz mono WAV: what the renderer asks for a view
 * (256 px wide tiles, as many as cover the panel) at three zooms: 10 s in view, 2 minutes in view, and the
 * whole hour in view (each column then averages up to 16 frames of 4096, read column by column).
 * Through `createHandlers` + `invokeOperation` (validation included), the answer's JSON size too.
 * `node --import tsx benchmarks/spectrogram.bench.ts` (BENCH_SECONDS to change the length).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHandlers, invokeOperation } from '../src/main/api/handlers';
import { Studio } from '../src/main/api/studio';
import { wavHeader16 } from '../src/main/audio/wav';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3600);
const RATE = 16000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-spectrogram-bench-'));
const wav = path.join(dir, 'hour.wav');

// A speech-like signal (voiced syllables with harmonics, pauses), written in one-second chunks.
const fd = fs.openSync(wav, 'w');
fs.writeSync(fd, wavHeader16(SECONDS * RATE, RATE));
const chunk = Buffer.alloc(RATE * 2);
for (let s = 0; s < SECONDS; s++) {
  for (let i = 0; i < RATE; i++) {
    const t = s + i / RATE;
    const f0 = 110 + 40 * Math.sin(2 * Math.PI * 0.3 * t);
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 2.5 * t)) * (s % 7 === 6 ? 0 : 1);
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * h * f0 * t) / h;
    chunk.writeInt16LE(Math.round(Math.max(-1, Math.min(1, 0.25 * syllable * v)) * 32767), i * 2);
  }
  fs.writeSync(fd, chunk);
}
fs.closeSync(fd);

const studio = Studio.open(path.join(dir, 'project.sqlite'));
const recordingId = studio.store.recordings.insert({
  path: wav,
  fileName: 'hour.wav',
  sizeBytes: fs.statSync(wav).size,
  checksum: 'bench',
  format: 'wav',
  durationS: SECONDS,
  sampleRate: RATE,
  channels: 1,
  peaksPerSecond: 1,
  peaks: new Float32Array(SECONDS),
});
const handlers = createHandlers(studio);

const PANEL_PX = 1000;
const TILE_PX = 256;
const HEIGHT = 200;
const views = [
  { name: '10 s in view', start: 1800, seconds: 10 },
  { name: '2 min in view', start: 1800, seconds: 120 },
  { name: 'the whole hour in view', start: 0, seconds: SECONDS },
];
console.log(
  `| View (${PANEL_PX} px, tiles ${TILE_PX}×${HEIGHT}, mel) | tiles | median ms for the view | JSON KiB a tile |`,
);
console.log('| --- | --- | --- | --- |');
for (const view of views) {
  const pxPerSecond = PANEL_PX / view.seconds;
  const tiles = Math.ceil(PANEL_PX / TILE_PX);
  const times: number[] = [];
  let bytes = 0;
  for (let run = 0; run < 5; run++) {
    const t0 = performance.now();
    for (let i = 0; i < tiles; i++) {
      // Each run its own tiles (shifted by one tile), so no cache of the OS or the service repeats work.
      const start = view.start + ((run * tiles + i) * TILE_PX) / pxPerSecond / 4;
      const tile = await invokeOperation(handlers, 'getSpectrogramTile', {
        recordingId,
        startSeconds: Math.min(start, SECONDS - 1),
        endSeconds: Math.min(start, SECONDS - 1) + TILE_PX / pxPerSecond,
        widthPx: TILE_PX,
        heightPx: HEIGHT,
        scale: 'mel',
      });
      bytes = JSON.stringify(tile).length;
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`| ${view.name} | ${tiles} | ${times[2]!.toFixed(0)} | ${(bytes / 1024).toFixed(0)} |`);
}
console.log(
  `\nload average: ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
studio.store.close();
fs.rmSync(dir, { recursive: true, force: true });
