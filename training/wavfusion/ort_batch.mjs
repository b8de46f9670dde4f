// Runs one or more ONNX graphs of a WavFusion bundle over the same items with onnxruntime-node
// (the studio's runtime), one item at a time, and prints {model: [{logits}...]} as JSON.
// usage: node ort_batch.mjs items.jsonl threads model.onnx [model2.onnx ...]
// items.jsonl: one {"audio": base64 float32 LE 16 kHz, "ids": [...]} per line.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node');
} catch (err) {
  console.error(`onnxruntime-node not found: run npm install in the repository root. ${err.message}`);
  process.exit(3);
}
const [itemsPath, threads, ...models] = process.argv.slice(2);
const items = readFileSync(itemsPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => {
    const j = JSON.parse(l);
    const buf = Buffer.from(j.audio, 'base64');
    return { audio: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), ids: j.ids };
  });
const out = {};
for (const model of models) {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads) || 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  // a speaker-normalised graph: every item without a speaker (a NaN row: the training set's statistics)
  const speakerInput = session.inputMetadata?.find?.((m) => m.name === 'speaker_statistics');
  const speakerDim = speakerInput ? Number(speakerInput.shape?.[2]) : 0;
  if (speakerInput && !(speakerDim > 0)) throw new Error(`${model}: speaker_statistics has no fixed width`);
  const rows = [];
  const started = performance.now();
  let samples = 0;
  for (const it of items) {
    const feeds = {
      audio: new ort.Tensor('float32', it.audio, [1, it.audio.length]),
      audio_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(it.audio.length)]), [1]),
      input_ids: new ort.Tensor('int64', BigInt64Array.from(it.ids.map((v) => BigInt(v))), [1, it.ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(it.ids.length).fill(1n), [1, it.ids.length]),
    };
    if (speakerInput)
      feeds.speaker_statistics = new ort.Tensor('float32', new Float32Array(2 * speakerDim).fill(NaN), [1, 2, speakerDim]);
    const r = await session.run(feeds);
    rows.push({ logits: Array.from(r.logits.data, Number), text_gate: Number(r.text_gate.data[0]) });
    samples += it.audio.length;
  }
  out[model] = { rows, seconds: (performance.now() - started) / 1000, audio_seconds: samples / 16000 };
  await session.release();
}
process.stdout.write(JSON.stringify(out));
