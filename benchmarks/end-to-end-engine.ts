/**
 * Engine-only side of the end-to-end benchmark (benchmarks/end-to-end.ts): loads the bundle, warms
 * up, then times InferenceEngine.predict over a folder of 16 kHz WAVs (transcripts beside them) with
 * the front end in-process (a WAV read; no resampling). Prints the predict and the load seconds.
 *
 *   node --import tsx benchmarks/end-to-end-engine.ts <bundle> <threads> <folder>
 */
import fs from 'node:fs';
import path from 'node:path';
import { InferenceEngine } from '../src/main/inference/engine';

const [bundle, threads, folder] = process.argv.slice(2) as [string, string, string];
const requests = fs
  .readdirSync(folder)
  .filter((f) => f.endsWith('.wav'))
  .sort()
  .map((f) => {
    const txt = path.join(folder, f.replace(/\.wav$/, '.txt'));
    return {
      key: f,
      path: path.join(folder, f),
      start: null,
      end: null,
      text: fs.existsSync(txt) ? fs.readFileSync(txt, 'utf8') : null,
    };
  });
const l0 = performance.now();
const engine = await InferenceEngine.load(bundle, { device: 'cpu', threads: Number(threads), frontEndWorkers: 0 });
const loadS = (performance.now() - l0) / 1000;
for await (const _ of engine.predict(requests.slice(0, 4)));
const t0 = performance.now();
for await (const _ of engine.predict(requests));
const seconds = (performance.now() - t0) / 1000;
await engine.close();
console.log(`${seconds} ${loadS}`);
