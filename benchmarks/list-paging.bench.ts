/**
 * listUtterances over 100,000 utterances: the whole list (what the renderer asks for today) against
 * one page of 100 rows (offset/limit with the filtered total). `node --import tsx benchmarks/list-paging.bench.ts`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../src/main/api/studio';
import { createHandlers, invokeOperation } from '../src/main/api/handlers';
import { encodeWav16 } from '../src/main/audio/wav';

const N = Number(process.env.BENCH_ROWS ?? 100_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-paging-'));
const wav = path.join(dir, 'a.wav');
fs.writeFileSync(wav, encodeWav16(new Float32Array(16000), 16000));
const studio = Studio.open(path.join(dir, 'p.sqlite'));
const { store } = studio;
const recId = store.recordings.insert({
  path: wav,
  fileName: 'a.wav',
  sizeBytes: 1,
  checksum: 'x',
  format: 'wav',
  durationS: N,
  sampleRate: 16000,
  channels: 1,
  peaksPerSecond: 1,
  peaks: new Float32Array(1),
});
store.transaction(() => {
  for (let i = 0; i < N; i++)
    store.utterances.insert({
      recordingId: recId,
      start: i,
      end: i + 0.9,
      speaker: `s${i % 20}`,
      transcript: `utterance ${i} ${i % 7 === 0 ? 'angry words' : 'calm words'}`,
    });
});
const labels = store.labels.list();
store.transaction(() => {
  for (let i = 1; i <= N; i += 2)
    store.annotations.put(
      i,
      'human',
      store.annotator,
      { labelId: labels[i % 4]!.id, valence: null, arousal: null, dominance: null, note: '' },
      'now',
    );
});
const handlers = createHandlers(studio);
async function measure(name: string, input: unknown) {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const out = await invokeOperation(handlers, 'listUtterances', input);
    ms.push(performance.now() - t);
    bytes = JSON.stringify(out).length;
  }
  ms.sort((a, b) => a - b);
  return { name, medianMs: ms[3]!, bytes };
}
const results = [];
for (const [name, filter] of [
  ['all rows', {}],
  ['search "angry"', { search: 'angry' }],
  ['unlabelled', { status: 'unlabelled' }],
] as const) {
  const all = await measure(`${name}: everything`, filter);
  const first = await measure(`${name}: first page (100)`, { ...filter, limit: 100 });
  const deep = await measure(`${name}: page at the middle`, { ...filter, limit: 100, offset: 20_000 });
  results.push(all, first, deep);
  console.log(
    `${name}: all ${all.medianMs.toFixed(1)} ms (${(all.bytes / 1e6).toFixed(1)} MB) · first page ${first.medianMs.toFixed(1)} ms (${(first.bytes / 1e3).toFixed(0)} kB, ${(all.medianMs / first.medianMs).toFixed(0)}× faster) · page at offset 20000 ${deep.medianMs.toFixed(1)} ms`,
  );
}
console.log(JSON.stringify({ rows: N, cpu: os.cpus()[0]?.model, results }));
await studio.close();
fs.rmSync(dir, { recursive: true, force: true });
