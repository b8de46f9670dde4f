/**
 * The studio at 100,000 utterances (issue 12, item 4): 5 annotators' labels (K = 3), an active model's
 * predictions. What the renderer's sparse list asks for: the first screen (open, info, labels, the first
 * page of 200), a filter or sort change (the new filter's first page), and a label keypress → committed
 * (setLabel, direct and over the loopback HTTP host), p95.
 * `nice -n 19 node --expose-gc --import tsx benchmarks/list-100k.bench.ts` (BENCH_ROWS for another size;
 * BENCH_KEEP=1 keeps the project file and prints its path, for EXPLAIN QUERY PLAN and profiling)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHandlers, invokeOperation } from '../src/main/api/handlers';
import { Studio } from '../src/main/api/studio';
import { encodeWav16 } from '../src/main/audio/wav';
import { AnnotatorsRepository, LabellingSettingsRepository } from '../src/main/db/annotators-repository';
import { startLoopbackHost } from '../src/main/host/loopback-host';
import { prng } from './lib/fixtures';
import { fmtMs, summarise } from './lib/stats';

const N = Number(process.env.BENCH_ROWS ?? 100_000);
const PAGE = 200;
const ROOT = path.resolve(import.meta.dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-100k-'));
// the studio's data folder (verified stamps) for this run, not the user's
process.env.WAVFUSION_HOME ??= path.join(dir, 'home');
const file = path.join(dir, 'p.sqlite');
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ---------------------------------------------------------------- the project
log(`building ${N} utterances`);
const t0 = performance.now();
{
  const wav = path.join(dir, 'a.wav');
  fs.writeFileSync(wav, encodeWav16(new Float32Array(16000), 16000));
  const studio = Studio.open(file);
  const { store } = studio;
  const rnd = prng(100);
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
  const labels = store.labels.list();
  const names = [store.annotator, 'bo', 'cy', 'di', 'ed'];
  const at = new Date().toISOString();
  store.transaction(() => {
    for (let i = 0; i < N; i++)
      store.utterances.insert({
        recordingId: recId,
        start: i,
        end: i + 0.9,
        speaker: `s${i % 20}`,
        transcript: `utterance ${i} ${i % 7 === 0 ? 'angry words' : 'calm words'}`,
      });
    const roster = new AnnotatorsRepository(store.db);
    for (const name of names) {
      roster.ensure(name, at);
      roster.setShare(name, 0.6);
    }
    const settings = new LabellingSettingsRepository(store.db);
    settings.set({ ...settings.get(), labelsPerUtterance: 3 });
    // Each annotator labelled about 60 % of the utterances; the viewer (the first) about 40 %.
    for (const [a, name] of names.entries())
      for (let id = 1; id <= N; id++)
        if (rnd() < (a === 0 ? 0.4 : 0.6))
          store.annotations.put(
            id,
            'human',
            name,
            { labelId: labels[Math.floor(rnd() * 4)]!.id, valence: null, arousal: null, dominance: null, note: '' },
            at,
          );
    const modelId = store.models.register('builtin:bench', 'bench-model', '1.0.0', 'bench', [
      'neutral',
      'happy',
      'angry',
      'sad',
    ]);
    const embedding = new Float32Array(8);
    for (let id = 1; id <= N; id++) {
      const p = [rnd(), rnd(), rnd(), rnd()];
      const z = p.reduce((s, x) => s + x, 0);
      const probabilities = p.map((x) => x / z);
      const top = probabilities.indexOf(Math.max(...probabilities));
      store.models.putPrediction({
        utteranceId: id,
        modelId,
        probabilities,
        predictedLabel: ['neutral', 'happy', 'angry', 'sad'][top]!,
        confidence: probabilities[top]!,
        entropy: -probabilities.reduce((s, x) => s + x * Math.log(x), 0) / Math.log(4),
        textGate: 0,
        textUsed: false,
        windows: 1,
        embedding,
        createdAt: at,
      });
    }
    store.activeModelId = modelId;
  });
  await studio.close();
}
log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB`);

const rows: string[][] = [];
/**
 * This process's CPU time (user + system, ms) beside the wall time: niced beside a busy machine the
 * wall time is mostly waiting for a core; the CPU time is the work itself (one thread: SQLite runs on it).
 */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const add = (what: string, ms: number[], cpu: number[], notes = '') => {
  const s = summarise(ms);
  const c = summarise(cpu);
  rows.push([
    what,
    String(s.n),
    fmtMs(s.median),
    s.n >= 20 ? fmtMs(s.p95) : '',
    fmtMs(Math.max(...ms)),
    fmtMs(c.median),
    s.n >= 20 ? fmtMs(c.p95) : '',
    notes,
  ]);
  log(`${what}: median ${fmtMs(s.median)}${s.n >= 20 ? `, p95 ${fmtMs(s.p95)}` : ''} (CPU ${fmtMs(c.median)})`);
};

// ---------------------------------------------------------------- first screen
// Two ways a project opens: after something changed the file (a copy, another program, a crash),
// so SQLite's quick_check reads it all; and exactly as this app's last clean close left it, so its
// verified stamp stands (db/verified-stamp.ts). Interleaved, 5 each.
{
  const cases = [
    { how: 'quick_check', touch: true },
    { how: 'verified-stamp', touch: false },
  ] as const;
  const acc = cases.map(() => ({
    ms: [] as number[],
    cpu: [] as number[],
    open: [] as number[],
    info: [] as number[],
    labels: [] as number[],
    page: [] as number[],
  }));
  for (let i = 0; i < 5; i++) {
    for (const [k, { how, touch }] of cases.entries()) {
      if (touch) fs.utimesSync(file, new Date(), new Date());
      const a = acc[k]!;
      const t = performance.now();
      const c = cpuMs();
      const studio = Studio.open(file);
      const handlers = createHandlers(studio);
      const t1 = performance.now();
      await invokeOperation(handlers, 'getProjectInfo', {});
      const t2 = performance.now();
      await invokeOperation(handlers, 'listLabels', {});
      const t3 = performance.now();
      await invokeOperation(handlers, 'listUtterances', { offset: 0, limit: PAGE });
      const t4 = performance.now();
      a.ms.push(t4 - t);
      a.cpu.push(cpuMs() - c);
      a.open.push(t1 - t);
      a.info.push(t2 - t1);
      a.labels.push(t3 - t2);
      a.page.push(t4 - t3);
      if (studio.store.integrity !== how) throw new Error(`expected an open by ${how}, got ${studio.store.integrity}`);
      await studio.close();
    }
  }
  const median = (xs: number[]) => fmtMs(summarise(xs).median);
  for (const [k, { how }] of cases.entries()) {
    const a = acc[k]!;
    add(
      `first screen (${how === 'quick_check' ? 'file changed since the last clean close: quick_check' : 'file as the last clean close left it: verified stamp'}): open, getProjectInfo, listLabels, listUtterances first page (200)`,
      a.ms,
      a.cpu,
      `medians: open ${median(a.open)}, info ${median(a.info)}, labels ${median(a.labels)}, page ${median(a.page)}`,
    );
  }
}

const studio = Studio.open(file);
const handlers = createHandlers(studio);

// ---------------------------------------------------------------- filter / sort changes
const changes: [string, Record<string, unknown>][] = [
  ['all (a refresh of page 0)', {}],
  ['page at offset 50,000 (a scroll or End)', { offset: 50_000 }],
  ['unlabelled', { status: 'unlabelled' }],
  ['label = happy', { labelId: studio.store.labels.list()[1]!.id }],
  ['search "angry"', { search: 'angry' }],
  ['sort by uncertainty', { sort: 'uncertainty' }],
  ['confidence < 0.5', { maxConfidence: 0.5 }],
  ['needs my label', { consensus: 'needs_my_label' }],
  ['consensus: needs more labels', { consensus: 'needs_more_labels' }],
  ['consensus: agreed', { consensus: 'agreed' }],
  ['consensus: disagreed', { consensus: 'disagreed' }],
];
for (const [what, filter] of changes) {
  const ms: number[] = [];
  const cpu: number[] = [];
  let filtered = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const c = cpuMs();
    const out = (await invokeOperation(handlers, 'listUtterances', { offset: 0, limit: PAGE, ...filter })) as {
      filtered: number;
    };
    ms.push(performance.now() - t);
    cpu.push(cpuMs() - c);
    filtered = out.filtered;
  }
  add(`listUtterances ${what}, ${PAGE} rows`, ms, cpu, `${filtered} match`);
}

// ---------------------------------------------------------------- keypress -> committed
{
  const labelIds = studio.store.labels.list().map((l) => l.id);
  let k = 0;
  const next = () => {
    k++;
    return { utteranceId: 1 + ((k * 7919) % N), labelId: labelIds[k % labelIds.length]! };
  };
  const direct: number[] = [];
  const directCpu: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const c = cpuMs();
    await invokeOperation(handlers, 'setLabel', next());
    direct.push(performance.now() - t);
    directCpu.push(cpuMs() - c);
  }
  add('setLabel via invokeOperation (validate, FULL commit, history, row)', direct, directCpu);
  const token = 'bench-token-not-secret';
  const host = await startLoopbackHost({ studio, rendererDir: path.join(ROOT, 'out', 'renderer'), token });
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const overHttp: number[] = [];
  const overHttpCpu: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const c = cpuMs();
    const res = await fetch(`http://127.0.0.1:${host.port}/api/setLabel`, {
      method: 'POST',
      headers,
      body: JSON.stringify(next()),
    });
    await res.json();
    overHttp.push(performance.now() - t);
    overHttpCpu.push(cpuMs() - c);
  }
  add('setLabel via loopback HTTP (fetch)', overHttp, overHttpCpu);
  await host.close();
}

console.log(
  `\n${N} utterances, 5 annotators (K = 3), predictions; ${os.cpus().length} × ${os.cpus()[0]?.model}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
console.log(
  '| case | n | median | p95 | max | CPU median | CPU p95 | notes |\n| --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
await studio.close();
if (process.env.BENCH_KEEP) log(`kept ${file}`);
else fs.rmSync(dir, { recursive: true, force: true });
