/**
 * Engine side of `npm run bench:inference`, one measurement per process so that its peak RSS
 * (getrusage maxRSS) is this measurement's alone.
 *
 *   node --import tsx benchmarks/inference-engine-run.ts <job.json> <out.json>
 *
 * Job kinds (`mode`):
 * - `predict`: InferenceEngine.load(bundle, { device: 'cpu', threads, batchSeconds }) in-process, then
 *   one timed `predict()` over the manifest's requests (decode WAV → mono 16 kHz → tokenise → sorted,
 *   budgeted batches → ONNX → pooling). What-ifs: `session` replaces the engine's onnxruntime session
 *   by one opened with these options (merged over the engine's own: see src/main/inference/execution.ts),
 *   `profile` turns on onnxruntime's profiler and sums kernel time per operator type.
 * - `load-memory`: peak RSS of one part of loading a bundle (reading/hashing it, or opening the session).
 * - `matmul`: GFLOP/s of one-node MatMul graphs (A [M, K] @ B [K, N]) in onnxruntime-node, float32.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceEngine, type PredictRequest, type PredictResult } from '../src/main/inference/engine';
import { readModelBundle } from '../src/main/inference/model-bundle';
import { timeMatmul } from './lib/matmul-peak';

interface PredictJob {
  mode: 'predict';
  bundle: string;
  manifest: string;
  threads: number;
  batchSeconds: number;
  session?: ort.InferenceSession.SessionOptions;
  profile?: string;
}

interface MatmulJob {
  mode: 'matmul';
  threads: number;
  graphs: { path: string; m: number; k: number; n: number }[];
  seconds: number;
}

interface LoadMemoryJob {
  mode: 'load-memory';
  bundle: string;
  threads: number;
  /** `bundle`: readModelBundle only; `session`: an onnxruntime session only (engine options + `session`). */
  part: 'bundle' | 'session';
  session?: ort.InferenceSession.SessionOptions;
}

interface ManifestItem {
  key: string;
  path: string;
  text: string | null;
  start?: number | null;
  end?: number | null;
}

const MiB = 1024 * 1024;
const maxRssMiB = () => process.resourceUsage().maxRSS / 1024; // KiB

async function predict(job: PredictJob) {
  const items = JSON.parse(fs.readFileSync(job.manifest, 'utf8')) as ManifestItem[];
  const requests: PredictRequest[] = items.map((it) => ({
    key: it.key,
    path: it.path,
    start: it.start ?? null,
    end: it.end ?? null,
    text: it.text,
  }));
  let t0 = performance.now();
  const engine = await InferenceEngine.load(job.bundle, {
    device: 'cpu',
    threads: job.threads,
    batchSeconds: job.batchSeconds,
  });
  const loadMs = performance.now() - t0;
  let session: ort.InferenceSession | null = null;
  if (job.session || job.profile) {
    // What-if: the same engine code path with a session opened with other options.
    if (!('session' in engine)) throw new Error('InferenceEngine has no `session` field any more: update this what-if');
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: job.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...job.session,
      executionProviders: ['cpu'],
      ...(job.profile ? { enableProfiling: true, profileFilePrefix: job.profile } : {}),
    };
    session = await ort.InferenceSession.create(engine.bundle.modelPath, options);
    await engine.close();
    Object.defineProperty(engine, 'session', { value: session });
    // warm-up like the engine's load-time self-check: 1 s of silence, no transcript
    const sr = engine.bundle.manifest.sample_rate;
    const empty = engine.bundle.manifest.empty_text_ids.map(BigInt);
    await session.run({
      audio: new ort.Tensor('float32', new Float32Array(sr), [1, sr]),
      audio_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(sr)), [1]),
      input_ids: new ort.Tensor('int64', BigInt64Array.from(empty), [1, empty.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(empty.length).fill(1n), [1, empty.length]),
    });
  }
  const rssAfterLoadMiB = process.memoryUsage().rss / MiB;
  const results: PredictResult[] = [];
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  for await (const chunk of engine.predict(requests)) results.push(...chunk);
  const runMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const maxRss = maxRssMiB();
  let ops: { op: string; ms: number; calls: number }[] | undefined;
  if (job.profile && session) {
    session.endProfiling();
    const dir = path.dirname(job.profile);
    const prefix = path.basename(job.profile);
    const files = fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
    ops = files.length ? summariseProfile(path.join(dir, files.sort().at(-1)!)) : undefined;
  }
  await engine.close();
  const failed = results.filter((r) => !r.ok);
  return {
    side: 'engine',
    onnxruntime: ort.env.versions.node,
    threads: engine.threads,
    device: engine.device,
    loadMs,
    runMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    audioSeconds: results.reduce((s, r) => s + r.durationS, 0),
    items: results.length,
    failed: failed.map((r) => (r.ok ? '' : `${r.key}: ${r.error}`)),
    windows: results.reduce((s, r) => s + (r.ok ? r.windows : 0), 0),
    rssAfterLoadMiB,
    maxRssMiB: maxRss,
    ops,
    logits: results.map((r) => (r.ok ? r.logits : null)),
  };
}

/** onnxruntime's profile (Chrome trace JSON): kernel time summed per operator type. */
function summariseProfile(file: string) {
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    cat?: string;
    name?: string;
    dur?: number;
    args?: { op_name?: string };
  }[];
  const byOp = new Map<string, { ms: number; calls: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const acc = byOp.get(e.args.op_name) ?? { ms: 0, calls: 0 };
    acc.ms += (e.dur ?? 0) / 1000;
    acc.calls += 1;
    byOp.set(e.args.op_name, acc);
  }
  fs.rmSync(file, { force: true });
  return [...byOp.entries()].map(([op, v]) => ({ op, ...v })).sort((a, b) => b.ms - a.ms);
}

async function matmul(job: MatmulJob) {
  const results = [];
  for (const g of job.graphs)
    results.push({ shape: [g.m, g.k, g.n], ...(await timeMatmul(g, job.threads, job.seconds)) });
  return { side: 'onnxruntime', onnxruntime: ort.env.versions.node, threads: job.threads, results };
}

async function loadMemory(job: LoadMemoryJob) {
  const rssBeforeMiB = process.memoryUsage().rss / MiB;
  const t0 = performance.now();
  if (job.part === 'bundle') {
    await readModelBundle(job.bundle);
  } else {
    const manifest = JSON.parse(fs.readFileSync(path.join(job.bundle, 'model.json'), 'utf8')) as { model?: string };
    const session = await ort.InferenceSession.create(path.join(job.bundle, manifest.model ?? 'model.onnx'), {
      intraOpNumThreads: job.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...job.session,
      executionProviders: ['cpu'],
    });
    void session;
  }
  const loadMs = performance.now() - t0;
  return { rssBeforeMiB, loadMs, rssMiB: process.memoryUsage().rss / MiB, maxRssMiB: maxRssMiB() };
}

const [jobPath, outPath] = process.argv.slice(2);
if (!jobPath || !outPath) throw new Error('usage: inference-engine-run.ts <job.json> <out.json>');
const job = JSON.parse(fs.readFileSync(jobPath, 'utf8')) as PredictJob | MatmulJob | LoadMemoryJob;
const result =
  job.mode === 'matmul' ? await matmul(job) : job.mode === 'load-memory' ? await loadMemory(job) : await predict(job);
fs.writeFileSync(outPath, JSON.stringify(result));
