// Runs an ONNX model with onnxruntime-node and prints the outputs as JSON.
// usage: node ort_run.mjs model.onnx inputs.json
// inputs.json: {"name": {"dtype": "float32"|"int64", "dims": [...], "data": [...]}, ...}
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node');
} catch (err) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  console.error(`onnxruntime-node not found (looked from ${root}/node_modules): run npm install in the repository root. ${err.message}`);
  process.exit(3);
}
const [modelPath, inputsPath] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(inputsPath, 'utf8'));
const feeds = {};
for (const [name, t] of Object.entries(spec)) {
  // float data: null stands for NaN (JSON has none)
  const data =
    t.dtype === 'int64'
      ? BigInt64Array.from(t.data.map((v) => BigInt(v)))
      : Float32Array.from(t.data, (v) => (v === null ? NaN : v));
  feeds[name] = new ort.Tensor(t.dtype, data, t.dims);
}
const session = await ort.InferenceSession.create(modelPath);
const results = await session.run(feeds);
const out = {};
for (const [name, t] of Object.entries(results)) out[name] = { dims: t.dims, data: Array.from(t.data, Number) };
process.stdout.write(JSON.stringify(out));
