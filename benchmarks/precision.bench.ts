/**
 * `npm run bench:precision`: the engine (src/main/inference/engine.ts) with model.onnx (fp32) against
 * model.int8.onnx (python -m wavfusion quantize) on the CPU, side by side in one run, at 1 and 2
 * threads, interleaved (fp32, int8, fp32, int8 …) so that load on the machine hits both alike.
 * Benchmarks, not tests: nothing here passes or fails.
 *
 * Bundle: PRECISION_BUNDLE (default resources/models/wavfusion-demo, the tiny config), copied to
 * benchmarks/.work/precision and quantised there (accuracy guard on tests/fixtures/parity).
 * Audio: the demo corpus clips (resources/demo/corpus), PRECISION_REPS (3) passes per configuration.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { InferenceEngine, type PredictRequest } from '../src/main/inference/engine';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work', 'precision');
const SOURCE = process.env.PRECISION_BUNDLE ?? path.join(ROOT, 'resources', 'models', 'wavfusion-demo');
const REPS = Number(process.env.PRECISION_REPS ?? 3);

function prepareBundle(): string {
  const dir = path.join(WORK, path.basename(SOURCE));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(SOURCE))
    if (f !== 'model.int8.onnx') fs.copyFileSync(path.join(SOURCE, f), path.join(dir, f));
  const q = spawnSync(
    process.env.INFER_PYTHON ?? '/usr/bin/python3',
    ['-m', 'wavfusion', 'quantize', '--model', dir, '--data', path.join(ROOT, 'tests', 'fixtures', 'parity')],
    { cwd: path.join(ROOT, 'training'), encoding: 'utf8' },
  );
  if (q.status !== 0) throw new Error(`quantize failed: ${q.stderr}`);
  process.stderr.write(
    q.stdout
      .split('\n')
      .filter((l) => l.startsWith('  agreement') || l.startsWith('wrote'))
      .join('\n') + '\n',
  );
  return dir;
}

function requests(): PredictRequest[] {
  const corpus = path.join(ROOT, 'resources', 'demo', 'corpus');
  return fs
    .readdirSync(corpus)
    .sort()
    .flatMap((spk) =>
      fs
        .readdirSync(path.join(corpus, spk))
        .filter((f) => f.endsWith('.wav'))
        .sort()
        .map((f) => path.join(corpus, spk, f)),
    )
    .map((p) => ({ key: p, path: p, start: null, end: null, text: null }));
}

async function run(bundle: string, precision: 'fp32' | 'int8', threads: number, reqs: PredictRequest[]) {
  const engine = await InferenceEngine.load(bundle, { device: 'cpu', precision, threads });
  try {
    for await (const _ of engine.predict(reqs.slice(0, 4))); // warm-up
    const started = performance.now();
    let audio = 0;
    for await (const chunk of engine.predict(reqs)) for (const r of chunk) if (r.ok) audio += r.durationS;
    return audio / ((performance.now() - started) / 1000);
  } finally {
    await engine.close();
  }
}

const bundle = prepareBundle();
const reqs = requests();
const results = new Map<string, number[]>();
for (let rep = 0; rep < REPS; rep++) {
  for (const threads of [1, 2]) {
    for (const precision of ['fp32', 'int8'] as const) {
      const x = await run(bundle, precision, threads, reqs);
      const key = `${precision}/${threads}`;
      results.set(key, [...(results.get(key) ?? []), x]);
      process.stderr.write(`rep ${rep + 1} ${key}: ${x.toFixed(1)}× real time\n`);
    }
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const lines = [
  `| model | threads | fp32 × real time | int8 × real time | int8 / fp32 |`,
  `| --- | --- | --- | --- | --- |`,
  ...[1, 2].map((t) => {
    const f = median(results.get(`fp32/${t}`)!);
    const i = median(results.get(`int8/${t}`)!);
    return `| ${path.basename(SOURCE)} | ${t} | ${f.toFixed(1)} | ${i.toFixed(1)} | ${(i / f).toFixed(2)}× |`;
  }),
];
process.stdout.write(
  `${reqs.length} clips, median of ${REPS} interleaved passes; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB (whole run)\n\n${lines.join('\n')}\n`,
);
