/**
 * `npm run bench:precision`: the engine (src/main/inference/engine.ts) with model.onnx (fp32) against
 * model.int8.onnx (python -m wavfusion quantize) on the CPU, side by side in one run, at 1 and 2
 * threads, interleaved (fp32, int8, fp32, int8 …) so that load on the machine hits both alike.
 * Each measurement runs in its own process, so its peak RSS (getrusage maxRSS, model load included)
 * is that configuration's alone. Benchmarks, not tests: nothing here passes or fails.
 *
 * Bundle: PRECISION_BUNDLE (default resources/models/wavfusion-demo, the tiny config; for `base`,
 * benchmarks/inference_bundles.py --models base writes benchmarks/.work/bundles/base), linked into
 * benchmarks/.work/precision/<name> (model.json copied, every other file hard-linked or copied) and
 * quantised there, accuracy guard on PRECISION_GUARD_DATA (default tests/fixtures/parity;
 * PRECISION_GUARD_ITEMS caps it). PRECISION_REUSE=1 keeps a model.int8.onnx quantised by an earlier run.
 * PRECISION_FORCE_INT8=1: when the guard refuses, write model.int8.onnx anyway (same rewrite, model.json
 * marks it FAILED) so that its speed can still be measured: random-weight bundles only, never to ship.
 * PRECISION_INCLUDE_CONV=1: quantise the feature-encoder convolutions too (quantize --include-conv), in
 * benchmarks/.work/precision/<name>-conv.
 * Audio: the demo corpus clips with their transcripts (resources/demo/corpus; PRECISION_CLIPS caps
 * them), PRECISION_REPS (3) passes per configuration, no speaker (a speaker-normalised model then
 * uses the training set's statistics: no statistics pass).
 *
 * FLOP floor/ceiling (PRECISION_MATMUL=0 skips it): one-node MatMul graphs written with the onnx
 * package (fp32, and the same rewritten by wavfusion.quantize to DynamicQuantizeMatMul) timed in
 * onnxruntime-node at 1 and 2 threads; the model's useful GFLOP per audio second for these clips
 * (benchmarks/inference_reference.py macs(), batch 1, no padding) turns the engine's × real time
 * into GFLOP/s and a fraction of the matmul peak.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceEngine, type PredictRequest } from '../src/main/inference/engine';
import { timeMatmul } from './lib/matmul-peak';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work', 'precision');
const SOURCE = path.resolve(process.env.PRECISION_BUNDLE ?? path.join(ROOT, 'resources', 'models', 'wavfusion-demo'));
const GUARD_DATA = process.env.PRECISION_GUARD_DATA ?? path.join(ROOT, 'tests', 'fixtures', 'parity');
const REPS = Number(process.env.PRECISION_REPS ?? 3);
const CLIPS = Number(process.env.PRECISION_CLIPS ?? Infinity);
const INCLUDE_CONV = process.env.PRECISION_INCLUDE_CONV === '1';
const PYTHON = process.env.INFER_PYTHON ?? '/usr/bin/python3';
const MATMUL_SHAPES: [number, number, number][] = [
  [2048, 2048, 2048],
  [4000, 768, 3072],
];

type Precision = 'fp32' | 'int8';
type Child =
  | { mode: 'predict'; bundle: string; precision: Precision; threads: number; clips: number | null }
  | { mode: 'matmul'; graphs: { path: string; m: number; k: number; n: number }[]; threads: number; seconds: number };

function python(args: string[], cwd = path.join(ROOT, 'training'), check = true) {
  const r = spawnSync(PYTHON, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'training') },
    maxBuffer: 64 << 20,
  });
  if (check && r.status !== 0) throw new Error(`${PYTHON} ${args.slice(0, 3).join(' ')} failed: ${r.stderr}`);
  return r;
}

/** model.int8.onnx without the accuracy guard (PRECISION_FORCE_INT8=1, after the guard refused): timing only. */
const UNGUARDED = `
import json, sys, onnx
from wavfusion.quantize import quantize_graph
d = sys.argv[1]
model = onnx.load(d + "/model.onnx")
counts = quantize_graph(model, include_conv=sys.argv[2] == "conv")
onnx.save(model, d + "/model.int8.onnx")
meta = json.load(open(d + "/model.json", encoding="utf-8"))
meta["variants"] = {"fp32": {"file": "model.onnx", "precision": "fp32"},
                    "int8": {"file": "model.int8.onnx", "precision": "int8", "quantised_nodes": counts,
                             "guard": "FAILED: written by benchmarks/precision.bench.ts for timing only"}}
json.dump(meta, open(d + "/model.json", "w", encoding="utf-8"), indent=2)
print(json.dumps(counts))
`;

function prepareBundle(): { dir: string; guard: string } {
  const dir = path.join(WORK, path.basename(SOURCE) + (INCLUDE_CONV ? '-conv' : ''));
  if (process.env.PRECISION_REUSE === '1' && fs.existsSync(path.join(dir, 'model.int8.onnx')))
    return { dir, guard: 'reused model.int8.onnx of an earlier run (see its model.json variants.int8.guard)' };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(SOURCE)) {
    const from = path.join(SOURCE, f);
    if (f === 'model.int8.onnx' || !fs.statSync(from).isFile()) continue;
    if (f === 'model.json') fs.copyFileSync(from, path.join(dir, f));
    else
      try {
        fs.linkSync(from, path.join(dir, f)); // the base graph is ~0.9 GB; quantize only writes new files
      } catch {
        fs.copyFileSync(from, path.join(dir, f));
      }
  }
  const args = ['-m', 'wavfusion', 'quantize', '--model', dir, '--data', path.resolve(GUARD_DATA)];
  if (INCLUDE_CONV) args.push('--include-conv');
  if (process.env.PRECISION_GUARD_ITEMS) args.push('--max-items', process.env.PRECISION_GUARD_ITEMS);
  const q = python(args, undefined, false);
  let guard = q.stdout
    .split('\n')
    .filter((l) => l.startsWith('accuracy guard') || l.startsWith('  agreement') || l.startsWith('wrote'))
    .join('\n');
  if (q.status !== 0) {
    const refused = q.stderr.trim().split('\n').pop() ?? '';
    if (process.env.PRECISION_FORCE_INT8 !== '1' || !refused.includes('accuracy guard failed'))
      throw new Error(`quantize failed: ${q.stdout}\n${q.stderr}`);
    const counts = python(['-c', UNGUARDED, dir, INCLUDE_CONV ? 'conv' : '']).stdout.trim();
    guard += `\nGUARD FAILED (${refused}); int8 written without the guard for timing only (quantised nodes ${counts})`;
  }
  process.stderr.write(guard + '\n');
  return { dir, guard };
}

function requests(limit = CLIPS): PredictRequest[] {
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
    .slice(0, limit)
    .map((p) => {
      const txt = p.replace(/\.wav$/, '.txt');
      const text = fs.existsSync(txt) ? fs.readFileSync(txt, 'utf8').trim() : null;
      return { key: p, path: p, start: null, end: null, text };
    });
}

/** Useful GFLOP of one batch-1 pass over each clip (inference_reference.macs), summed, and the audio seconds. */
function modelGflop(bundle: string, reqs: PredictRequest[]): { gflop: number; audioS: number; config: string } {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'benchmarks'))})
from inference_reference import macs
from wavfusion.tokenizer import ByteLevelBPETokenizer, EMPTY_TEXT_IDS
from wavfusion.audio import load_audio
bundle, reqs = sys.argv[1], json.loads(sys.argv[2])
meta = json.load(open(bundle + "/model.json", encoding="utf-8"))
tok = ByteLevelBPETokenizer.load(bundle + "/" + meta["tokenizer"], max_length=meta.get("max_text_tokens"))
cfg, total, seconds = meta["config"], 0.0, 0.0
for r in reqs:
    n = len(load_audio(r["path"]))
    ids = tok.encode(r["text"], max_length=meta.get("max_text_tokens")) if r["text"] else list(EMPTY_TEXT_IDS)
    total += 2 * sum(macs(cfg, 1, n, len(ids)).values())
    seconds += n / meta["sample_rate"]
print(json.dumps({"gflop": total / 1e9, "audioS": seconds, "config": cfg.get("name", "")}))
`;
  return JSON.parse(python(['-c', script, bundle, JSON.stringify(reqs)]).stdout) as {
    gflop: number;
    audioS: number;
    config: string;
  };
}

/** fp32 and int8 (DynamicQuantizeMatMul) one-node graphs A[M, K] @ B[K, N], written with the onnx package. */
function matmulGraphs(): { precision: Precision; path: string; m: number; k: number; n: number }[] {
  const dir = path.join(WORK, 'matmul');
  fs.mkdirSync(dir, { recursive: true });
  const script = `
import json, os, sys
import numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
from wavfusion.quantize import quantize_graph
out, shapes = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(0)
for m, k, n in shapes:
    b = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32) / np.sqrt(k), "b")
    g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")], "matmul",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["m", k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])], [b])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, f"fp32-{k}x{n}.onnx"))
    assert quantize_graph(model)["MatMul"] == 1
    onnx.save(model, os.path.join(out, f"int8-{k}x{n}.onnx"))
`;
  python(['-c', script, dir, JSON.stringify(MATMUL_SHAPES)]);
  return (['fp32', 'int8'] as const).flatMap((precision) =>
    MATMUL_SHAPES.map(([m, k, n]) => ({ precision, path: path.join(dir, `${precision}-${k}x${n}.onnx`), m, k, n })),
  );
}

// ------------------------------------------------------------------------------------------------
// child side: one measurement per process

async function childPredict(job: Extract<Child, { mode: 'predict' }>) {
  const reqs = requests(job.clips ?? Infinity); // JSON writes Infinity as null
  const t0 = performance.now();
  const engine = await InferenceEngine.load(job.bundle, {
    device: 'cpu',
    precision: job.precision,
    threads: job.threads,
  });
  const loadS = (performance.now() - t0) / 1000;
  try {
    for await (const _ of engine.predict(reqs.slice(0, 2))); // warm-up
    const started = performance.now();
    let audio = 0;
    for await (const chunk of engine.predict(reqs)) for (const r of chunk) if (r.ok) audio += r.durationS;
    const seconds = (performance.now() - started) / 1000;
    return { xrt: audio / seconds, audioS: audio, seconds, loadS };
  } finally {
    await engine.close();
  }
}

async function childMatmul(job: Extract<Child, { mode: 'matmul' }>) {
  const results = [];
  for (const g of job.graphs) {
    const { gflops, medianGflops } = await timeMatmul(g, job.threads, job.seconds);
    results.push({ graph: path.basename(g.path), gflops, medianGflops });
  }
  return { results };
}

function child<T>(job: Child): T & { maxRssMiB: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify(job)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`child ${job.mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T & { maxRssMiB: number };
}

if (process.argv[2] === '--child') {
  const job = JSON.parse(process.argv[3]!) as Child;
  const result = job.mode === 'predict' ? await childPredict(job) : await childMatmul(job);
  process.stdout.write(JSON.stringify({ ...result, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
} else {
  await main();
}

// ------------------------------------------------------------------------------------------------
// parent side

async function main() {
  const started = new Date();
  const loads: number[] = [];
  const sampleLoad = () => loads.push(os.loadavg()[0]!);
  sampleLoad();
  const { dir: bundle, guard } = prepareBundle();
  const reqs = requests();
  const flops = process.env.PRECISION_MATMUL === '0' ? null : modelGflop(bundle, reqs);
  const results = new Map<string, { xrt: number; maxRssMiB: number; loadS: number }[]>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const threads of [1, 2]) {
      for (const precision of ['fp32', 'int8'] as const) {
        sampleLoad();
        const x = child<{ xrt: number; loadS: number }>({ mode: 'predict', bundle, precision, threads, clips: CLIPS });
        const key = `${precision}/${threads}`;
        results.set(key, [...(results.get(key) ?? []), x]);
        process.stderr.write(
          `rep ${rep + 1} ${key}: ${x.xrt.toFixed(1)}× real time, peak RSS ${x.maxRssMiB.toFixed(0)} MiB, load ${x.loadS.toFixed(1)} s (load avg ${os.loadavg()[0]!.toFixed(1)})\n`,
        );
      }
    }
  }
  const peak = new Map<string, { gflops: number; medianGflops: number }>();
  if (flops) {
    const graphs = matmulGraphs();
    for (const threads of [1, 2]) {
      sampleLoad();
      const r = child<{ results: { graph: string; gflops: number; medianGflops: number }[] }>({
        mode: 'matmul',
        graphs,
        threads,
        seconds: 3,
      });
      for (const g of r.results) {
        peak.set(`${g.graph}/${threads}`, g);
        process.stderr.write(`matmul ${g.graph} ${threads} threads: ${g.gflops.toFixed(1)} GFLOP/s (best)\n`);
      }
    }
  }
  sampleLoad();

  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const name = path.basename(SOURCE) + (INCLUDE_CONV ? ' (int8 convs too)' : '');
  const med = (key: string, f: (r: { xrt: number; maxRssMiB: number; loadS: number }) => number) =>
    median(results.get(key)!.map(f));
  const lines = [
    `| model | threads | fp32 × real time | int8 × real time | int8 / fp32 | fp32 peak RSS | int8 peak RSS |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
    ...[1, 2].map((t) => {
      const f = med(`fp32/${t}`, (r) => r.xrt);
      const i = med(`int8/${t}`, (r) => r.xrt);
      const rf = med(`fp32/${t}`, (r) => r.maxRssMiB);
      const ri = med(`int8/${t}`, (r) => r.maxRssMiB);
      return `| ${name} | ${t} | ${f.toFixed(1)} | ${i.toFixed(1)} | ${(i / f).toFixed(2)}× | ${rf.toFixed(0)} MiB | ${ri.toFixed(0)} MiB |`;
    }),
  ];
  const md = [
    `Run of ${started.toISOString()}, ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, onnxruntime-node ${ort.env.versions.node}; ` +
      `1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.`,
    `${reqs.length} clips, median of ${REPS} interleaved passes, each in its own process (peak RSS = that process's, model load included).`,
    '',
    ...lines,
    '',
    `Accuracy guard: ${guard.replace(/\n/g, ' ')}`,
  ];
  if (flops) {
    const gPerS = flops.gflop / flops.audioS;
    md.push(
      '',
      `Useful work of ${name} on these clips (inference_reference.macs, batch 1, 2 × MACs): ${gPerS.toFixed(2)} GFLOP per audio second.`,
      '',
      '| matrix multiply | threads | M×K×N | GFLOP/s (best) | GFLOP/s (median) |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [key, p] of peak) {
      const [graph, threads] = key.split('/');
      const [m, k, n] = MATMUL_SHAPES.find(([, k, n]) => graph!.endsWith(`-${k}x${n}.onnx`))!;
      md.push(
        `| ${graph!.startsWith('int8') ? 'int8 DynamicQuantizeMatMul' : 'fp32 MatMul'} | ${threads} | ${m}×${k}×${n} | ${p.gflops.toFixed(1)} | ${p.medianGflops.toFixed(1)} |`,
      );
    }
    md.push(
      '',
      '| threads | fp32 matmul peak | fp32 ceiling × real time | engine fp32 GFLOP/s | fraction of peak | engine int8 GFLOP/s (fp32-equivalent) |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const t of [1, 2]) {
      const best = Math.max(
        ...[...peak].filter(([k]) => k.startsWith('fp32') && k.endsWith(`/${t}`)).map(([, p]) => p.gflops),
      );
      const f = med(`fp32/${t}`, (r) => r.xrt) * gPerS;
      const i = med(`int8/${t}`, (r) => r.xrt) * gPerS;
      md.push(
        `| ${t} | ${best.toFixed(1)} GFLOP/s | ${(best / gPerS).toFixed(1)} | ${f.toFixed(1)} | ${((100 * f) / best).toFixed(0)} % | ${i.toFixed(1)} |`,
      );
    }
  }
  process.stdout.write(md.join('\n') + '\n');
}
