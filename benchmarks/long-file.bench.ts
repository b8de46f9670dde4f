/**
 * Part 4 of `npm run bench:studio`, run in its own process so its peak RSS (getrusage maxrss) is the
 * peak of decoding a 1-hour WAV and computing its peaks, not of the rest of the benchmark.
 *
 *   node --expose-gc --import tsx benchmarks/long-file.bench.ts <long.wav> <out.json> <workDir> <reps>
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createHandlers, invokeOperation } from '../src/main/api/handlers';
import { resolveMedia } from '../src/main/api/media';
import { Studio } from '../src/main/api/studio';
import { decodeAudioFile, type DecodedAudio } from '../src/main/audio/decode';
import { computePeaks } from '../src/main/audio/signal';
import { PEAKS_PER_SECOND } from '../src/main/import/import-service';
import { gc, since, summarise } from './lib/stats';
import { maxDiff, streamWavChecksumAndPeaks, wavClipByRange } from './lib/what-if';

const [wav, outJson, workDir, repsArg] = process.argv.slice(2);
if (!wav || !outJson || !workDir) throw new Error('usage: long-file.bench.ts <long.wav> <out.json> <workDir> [reps]');
const reps = Number(repsArg ?? 3);

const MiB = 1024 * 1024;
const mem = () => {
  const m = process.memoryUsage();
  return {
    rssMiB: m.rss / MiB,
    heapUsedMiB: m.heapUsed / MiB,
    externalMiB: m.external / MiB,
    arrayBuffersMiB: m.arrayBuffers / MiB,
  };
};
const maxRssMiB = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

gc();
const baseline = { ...mem(), maxRssMiB: maxRssMiB() };

// Sample memory while decoding; decoding mostly blocks the loop, so getrusage's maxRSS is the real peak.
const sampled = { rssMiB: 0, heapUsedMiB: 0, arrayBuffersMiB: 0 };
const sampler = setInterval(() => {
  const m = mem();
  sampled.rssMiB = Math.max(sampled.rssMiB, m.rssMiB);
  sampled.heapUsedMiB = Math.max(sampled.heapUsedMiB, m.heapUsedMiB);
  sampled.arrayBuffersMiB = Math.max(sampled.arrayBuffersMiB, m.arrayBuffersMiB);
}, 2);

const fileBytes = fs.statSync(wav).size;

// What-if first, while maxRSS is still the baseline: checksum + peaks from 1 MiB reads, no decode.
const streamMs: number[] = [];
let t0 = performance.now();
let streamed = streamWavChecksumAndPeaks(wav, PEAKS_PER_SECOND);
streamMs.push(since(t0));
const streamMaxRssMiB = maxRssMiB();
for (let i = 1; i < reps; i++) {
  t0 = performance.now();
  streamed = streamWavChecksumAndPeaks(wav, PEAKS_PER_SECOND);
  streamMs.push(since(t0));
}
gc();

/** The shipped path, once, with memory readings; the decoded audio is dropped when it returns. */
async function decodeHashPeaks() {
  let t = performance.now();
  const audio: DecodedAudio = await decodeAudioFile(wav!);
  const decodeMs = since(t);
  const afterDecode = mem();
  t = performance.now();
  const checksum = createHash('sha256').update(audio.bytes).digest('hex');
  const hashMs = since(t);
  const peaksMs: number[] = [];
  let peaks: Float32Array = new Float32Array(0);
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    peaks = computePeaks(audio.channels, audio.sampleRate, PEAKS_PER_SECOND);
    peaksMs.push(since(t));
  }
  return {
    decodeMs,
    afterDecode,
    durationS: audio.durationS,
    samples: audio.channels[0]!.length,
    checksum,
    hashMs,
    peaks,
    peaksMs,
    afterPeaks: mem(),
  };
}

const first = await decodeHashPeaks();
clearInterval(sampler);
const peakDuringDecodeAndPeaks = { maxRssMiB: maxRssMiB(), sampled };
const { afterDecode, afterPeaks, durationS, samples, checksum, hashMs, peaks, peaksMs } = first;
const bins = peaks.length;
const streamedMatches = { checksum: streamed.checksum === checksum, peaksMaxDiff: maxDiff(streamed.peaks, peaks) };
const decodeMs: number[] = [first.decodeMs];
gc();
for (let i = 1; i < reps; i++) {
  t0 = performance.now();
  await decodeAudioFile(wav);
  decodeMs.push(since(t0));
  gc();
}

// End to end: import the 1-hour file with a manifest of 20 s segments, then the waveform and clip
// requests the renderer makes when an annotator steps onto one of those segments.
const manifest = path.join(workDir, 'long-1h.csv');
const segments = Math.floor(durationS / 20);
fs.writeFileSync(
  manifest,
  ['path,start,end,speaker,text']
    .concat(Array.from({ length: segments }, (_, k) => `${path.basename(wav)},${k * 20},${k * 20 + 19.5},s1,seg ${k}`))
    .join('\n') + '\n',
);
const projectFile = path.join(workDir, 'long-1h.sqlite');
for (const f of [projectFile, `${projectFile}-wal`, `${projectFile}-shm`]) fs.rmSync(f, { force: true });
const studio = Studio.open(projectFile, { create: true });
gc();
t0 = performance.now();
const job = studio.jobs.start('import', 'long file', (ctx) => studio.importer.importPath(manifest, ctx));
const status = await studio.jobs.wait(job);
const importMs = since(t0);
if (status.state !== 'succeeded') throw new Error(`import of the long file failed: ${status.error ?? status.state}`);

const handlers = createHandlers(studio);
const { rows } = (await invokeOperation(handlers, 'listUtterances', {})) as { rows: { id: number }[] };
const mid = rows[rows.length >> 1]!.id;
t0 = performance.now();
await invokeOperation(handlers, 'getWaveform', { utteranceId: mid, contextSeconds: 0.5 });
const firstWaveformMs = since(t0);

// Stepping through segments: getWaveform, and beside it the peaks read it does (the whole hour's
// blob) and the what-if read of only the clip's slice (substr), interleaved after a warm-up.
const recordingId = studio.store.utterances.byId(mid)!.recordingId;
const u = studio.store.utterances.byId(mid)!;
const pps = PEAKS_PER_SECOND;
const from = Math.floor(Math.max(0, u.start - 0.5) * pps);
const count = Math.ceil((u.end + 0.5) * pps) - from;
const slice = studio.store.db.prepare<[number, number, number], { p: Buffer }>(
  'SELECT substr(peaks, ?, ?) AS p FROM recordings WHERE id = ?',
);
const readSlice = () => {
  const p = slice.get(from * 4 + 1, count * 4, recordingId)!.p;
  return new Float32Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
};
for (let i = 0; i < 20; i++) {
  await invokeOperation(handlers, 'getWaveform', { utteranceId: mid, contextSeconds: 0.5 });
  studio.store.recordings.peaks(recordingId);
  readSlice();
}
const waveformMs: number[] = [];
const wholeBlobMs: number[] = [];
const sliceMs: number[] = [];
let waveformBytes = 0;
let sliceMatches = true;
for (let i = 0; i < 50; i++) {
  t0 = performance.now();
  const w = await invokeOperation(handlers, 'getWaveform', { utteranceId: mid, contextSeconds: 0.5 });
  waveformMs.push(since(t0));
  waveformBytes = Buffer.byteLength(JSON.stringify(w));
  t0 = performance.now();
  const all = studio.store.recordings.peaks(recordingId);
  wholeBlobMs.push(since(t0));
  t0 = performance.now();
  const part = readSlice();
  sliceMs.push(since(t0));
  sliceMatches &&= maxDiff(part, all.subarray(from, from + count)) === 0;
}
gc();
t0 = performance.now();
await resolveMedia(studio, `utterances/${mid}/clip.wav?context=0.5`);
const firstClipMs = since(t0);
const clipMs: number[] = [];
for (let i = 0; i < 20; i++) {
  const id = rows[(mid + i * 7) % rows.length]!.id;
  t0 = performance.now();
  await resolveMedia(studio, `utterances/${id}/clip.wav?context=0.5`);
  clipMs.push(since(t0));
}
const afterClip = { ...mem(), maxRssMiB: maxRssMiB() };

// What-if: the clip read from its byte range instead of decoding the hour (no cache to help it).
const clipRangeMs: number[] = [];
let clipIdentical = true;
for (let i = 0; i < 20; i++) {
  const id = rows[(mid + i * 7) % rows.length]!.id;
  const u = studio.store.utterances.byId(id)!;
  t0 = performance.now();
  const fast = wavClipByRange(wav, u.start - 0.5, u.end + 0.5);
  clipRangeMs.push(since(t0));
  const media = await resolveMedia(studio, `utterances/${id}/clip.wav?context=0.5`);
  const shipped = await media.read(0, media.size);
  clipIdentical &&= fast.equals(shipped);
}

await studio.close();

fs.writeFileSync(
  outJson,
  JSON.stringify(
    {
      file: { bytes: fileBytes, durationS, samples, sampleRate: 16000 },
      decode: summarise(decodeMs),
      decodeSamples: decodeMs,
      sha256: { ms: hashMs },
      computePeaks: { ...summarise(peaksMs), bins },
      whatIfStreaming: { ...summarise(streamMs), maxRssMiB: streamMaxRssMiB, matches: streamedMatches },
      memory: { baseline, afterDecode, afterPeaks, peakDuringDecodeAndPeaks, afterClip },
      importEndToEnd: { ms: importMs, segments, report: status.result },
      waveform: { ...summarise(waveformMs), jsonBytes: waveformBytes, firstMs: firstWaveformMs },
      clip: { firstMs: firstClipMs, warm: summarise(clipMs) },
      whatIfClipByRange: { ...summarise(clipRangeMs), identicalBytes: clipIdentical },
      peaksBlob: { whole: summarise(wholeBlobMs), whatIfSubstr: summarise(sliceMs), identical: sliceMatches },
    },
    null,
    2,
  ),
);
