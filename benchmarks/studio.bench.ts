/**
 * `npm run bench:studio`: end-to-end timings of the studio core on inputs this script makes itself
 * under benchmarks/.work/ (gitignored; reused between runs where they do not change).
 *
 *   1. open a 10,000-utterance project and list it (filters, response size)
 *   2. label keypress -> committed: setLabel through the handlers and through the loopback HTTP host
 *   3. import throughput: 1,000 short 16 kHz WAV files through ImportService via the JobRunner
 *      (and 100 FLAC / MP3 files, when ffmpeg is installed)
 *   4. a 1-hour recording: decode, computePeaks, peak memory (in a child process)
 *
 * Prints a Markdown table and writes benchmarks/.work/results.json. Benchmarks, not tests: nothing here
 * passes or fails on a number. BENCH_QUICK=1 runs fewer repetitions (for editing this file).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createHandlers, invokeOperation, type Handlers } from '../src/main/api/handlers';
import { Studio } from '../src/main/api/studio';
import { decodeAudioFile } from '../src/main/audio/decode';
import { computePeaks } from '../src/main/audio/signal';
import type { Db } from '../src/main/db/open-database';
import { startLoopbackHost } from '../src/main/host/loopback-host';
import { PEAKS_PER_SECOND } from '../src/main/import/import-service';
import { ProjectStore } from '../src/main/project/project-store';
import type { AnnotationState, ImportReport, UtteranceRow } from '../src/shared/contract';
import { ffmpegAll, hasTool, prng, synthSpeech, writeLongWav, writeWav } from './lib/fixtures';
import { decodePcm16Wav, maxDiff } from './lib/what-if';
import { fmtBytes, fmtMs, gc, markdownTable, since, summarise, type Summary } from './lib/stats';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work');
const QUICK = process.env.BENCH_QUICK === '1';
const SR = 16000;

const N = {
  open: QUICK ? 3 : 9,
  list: QUICK ? 5 : 11,
  setLabelRounds: QUICK ? 2 : 5,
  setLabelBlock: 100,
  whatIfRounds: QUICK ? 2 : 4,
  whatIfBlock: 50,
  importFull: QUICK ? 1 : 3,
  importNormal: QUICK ? 1 : 2,
  importSmall: QUICK ? 1 : 2,
  longDecode: QUICK ? 2 : 3,
};

fs.mkdirSync(WORK, { recursive: true });
const started = performance.now();
const log = (msg: string) => console.error(`[bench ${(since(started) / 1000).toFixed(1)}s] ${msg}`);

// ---------------------------------------------------------------- result collection

interface TableRow {
  section: string;
  case: string;
  n: string;
  median: string;
  p95: string;
  p99: string;
  mean: string;
  notes: string;
}
const table: TableRow[] = [];
const results: Record<string, unknown> = {};

function addTiming(section: string, name: string, s: Summary, notes = ''): void {
  table.push({
    section,
    case: name,
    n: String(s.n),
    median: fmtMs(s.median),
    p95: s.n >= 20 ? fmtMs(s.p95) : '',
    p99: s.n >= 100 ? fmtMs(s.p99) : '',
    mean: s.n > 1 ? fmtMs(s.mean) : '',
    notes,
  });
}
function addValue(section: string, name: string, value: string, notes = '', n = ''): void {
  table.push({ section, case: name, n, median: value, p95: '', p99: '', mean: '', notes });
}

/** a/b as "0.42×"; small ratios keep two significant digits and say how many times faster. */
const ratio = (a: number, b: number) => {
  const r = a / b;
  return r >= 0.1 ? `${r.toFixed(2)}×` : `${r.toPrecision(2)}× (${(1 / r).toFixed(0)}× faster)`;
};

function removeDb(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
}

async function timed<T>(fn: () => T | Promise<T>, into: number[]): Promise<T> {
  const t0 = performance.now();
  const v = await fn();
  into.push(since(t0));
  return v;
}

/** Replaces db.prepare with a memoising one (what a statement cache in the repositories would do). */
function withStatementCache(db: Db): () => void {
  const original = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  (db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = original(sql);
      cache.set(sql, s);
    }
    return s;
  };
  return () => delete (db as unknown as { prepare?: unknown }).prepare;
}

/** Records each statement run while `fn` runs (`.all` calls), with its SQL text and parameters. */
async function captureSql(db: Db, fn: () => Promise<unknown>): Promise<{ sql: string; args: unknown[] }[]> {
  const original = db.prepare.bind(db);
  const seen: { sql: string; args: unknown[] }[] = [];
  (db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
    const stmt = original(sql);
    const all = stmt.all.bind(stmt);
    (stmt as unknown as { all: (...args: unknown[]) => unknown }).all = (...args: unknown[]) => {
      seen.push({ sql, args });
      return all(...(args as []));
    };
    return stmt;
  };
  try {
    await fn();
  } finally {
    delete (db as unknown as { prepare?: unknown }).prepare;
  }
  return seen;
}

// ---------------------------------------------------------------- environment

function environment() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(os.availableParallelism());
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim();
  const mem = new Database(':memory:');
  const sqlite = (mem.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  mem.close();
  const pkg = (name: string) =>
    (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  return {
    date: new Date().toISOString(),
    nproc: Number(nproc),
    cpuModel: model,
    totalMemGiB: +(os.totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    sqlite,
    betterSqlite3: pkg('better-sqlite3'),
    audioDecode: pkg('audio-decode'),
    gitCommit: git || null,
    quick: QUICK,
  };
}

/** The disk's commit latency: write 4 KiB + fsync, the floor under every synchronous=FULL commit. */
function fsyncBaseline(): Summary {
  const file = path.join(WORK, 'fsync-probe.tmp');
  const fd = fs.openSync(file, 'w');
  const ms: number[] = [];
  const block = Buffer.alloc(4096, 7);
  try {
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      fs.writeSync(fd, block);
      fs.fsyncSync(fd);
      ms.push(since(t0));
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return summarise(ms);
}

// ---------------------------------------------------------------- 1. a 10,000-utterance project

const RECORDINGS = 500;
const SEGMENTS = 20;
const SPEAKERS = 25;
const SESSION_S = 40;
const SEARCH_WORD = 'river';
const VOCAB = (
  'the a and to of i you it that was is in we so but well yes no not really think know just like ' +
  'what okay right oh mean going have had get told said never always again today tomorrow work home ' +
  'money car phone time people friend mother father sorry thanks please fine great terrible happy ' +
  'angry tired late early hear believe understand wait stop come back leave stay'
).split(' ');

function transcript(rnd: () => number): string {
  const n = 5 + Math.floor(rnd() * 10);
  const words = Array.from({ length: n }, () => VOCAB[Math.floor(rnd() ** 1.5 * VOCAB.length)]!);
  if (rnd() < 0.02) words.splice(Math.floor(rnd() * n), 0, SEARCH_WORD);
  return words.join(' ');
}

/** 500 recordings (hard links of one 40 s WAV) × 20 segments, ~40 % labelled, ~10 % with an imported label. */
async function buildProject10k(file: string) {
  const corpus = path.join(WORK, 'corpus-10k');
  const base = path.join(WORK, 'session-40s.wav');
  if (!fs.existsSync(base)) writeWav(base, synthSpeech(SESSION_S, SR, 40), SR);
  const paths: string[] = [];
  for (let r = 0; r < RECORDINGS; r++) {
    const spk = `spk${String((r % SPEAKERS) + 1).padStart(2, '0')}`;
    const p = path.join(corpus, spk, `session-${String(r + 1).padStart(3, '0')}.wav`);
    if (!fs.existsSync(p)) {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      try {
        fs.linkSync(base, p);
      } catch {
        fs.copyFileSync(base, p);
      }
    }
    paths.push(p);
  }
  const audio = await decodeAudioFile(base);
  const peaks = computePeaks(audio.channels, audio.sampleRate, PEAKS_PER_SECOND);
  const checksum = createHash('sha256').update(audio.bytes).digest('hex');
  const sizeBytes = fs.statSync(base).size;

  removeDb(file);
  const t0 = performance.now();
  const store = ProjectStore.open(file, { create: true, name: 'Benchmark 10k' });
  const labels = store.labels.list();
  const annotator = store.annotator;
  const rnd = prng(10_000);
  let human = 0;
  let imported = 0;
  store.transaction(() => {
    for (let r = 0; r < RECORDINGS; r++) {
      const recordingId = store.recordings.insert({
        path: paths[r]!,
        fileName: path.basename(paths[r]!),
        sizeBytes,
        checksum,
        format: 'wav',
        durationS: audio.durationS,
        sampleRate: audio.sampleRate,
        channels: 1,
        peaksPerSecond: PEAKS_PER_SECOND,
        peaks,
      });
      const speaker = path.basename(path.dirname(paths[r]!));
      for (let s = 0; s < SEGMENTS; s++) {
        const start = s * (SESSION_S / SEGMENTS);
        const end = start + 1.2 + rnd() * 0.7;
        const utteranceId = store.utterances.insert({ recordingId, start, end, speaker, transcript: transcript(rnd) });
        const pick = () => labels[rnd() < 0.4 ? 0 : 1 + Math.floor(rnd() * (labels.length - 1))]!.id;
        if (rnd() < 0.4) {
          const at = new Date().toISOString();
          const after: AnnotationState = {
            labelId: pick(),
            valence: null,
            arousal: null,
            dominance: null,
            note: '',
            unsure: false,
          };
          store.annotations.put(utteranceId, 'human', annotator, after, at);
          store.annotations.appendHistory({
            at,
            annotator,
            utteranceId,
            op: 'edit',
            targetSeq: null,
            before: null,
            after,
          });
          human++;
        }
        if (rnd() < 0.1) {
          const state = { labelId: pick(), valence: null, arousal: null, dominance: null, note: '' };
          store.annotations.put(utteranceId, 'import', 'manifest.csv', state, new Date().toISOString());
          imported++;
        }
      }
    }
  });
  const createMs = since(t0);
  const t1 = performance.now();
  const predictions = addPredictions(
    store,
    labels.map((l) => l.name),
  );
  const predictMs = since(t1);
  store.close();
  return {
    createMs,
    predictions,
    predictMs,
    recordings: RECORDINGS,
    utterances: RECORDINGS * SEGMENTS,
    humanLabelled: human,
    importedLabels: imported,
    fileBytes: fs.statSync(file).size,
    labels,
  };
}

const EMBEDDING_DIM = 768;

/**
 * What a finished model run leaves: one prediction (4-class probabilities, a 768-float embedding) per
 * utterance, through ModelsRepository, and that model made the active one. Returns how many were
 * written, 0 where this core has no predictions.
 */
function addPredictions(store: ProjectStore, labelNames: string[]): number {
  if (!('models' in store) || typeof store.models?.putPrediction !== 'function') return 0;
  const rnd = prng(768);
  const embedding = new Float32Array(EMBEDDING_DIM).map(() => rnd() - 0.5);
  const createdAt = new Date().toISOString();
  let n = 0;
  store.transaction(() => {
    const modelId = store.models.register('builtin:bench', 'bench-model', '1.0.0', 'bench', labelNames);
    const count = store.utterances.count();
    for (let utteranceId = 1; utteranceId <= count; utteranceId++) {
      const logits = labelNames.map(() => rnd() * 3);
      const z = logits.reduce((a, b) => a + Math.exp(b), 0);
      const probabilities = logits.map((l) => Math.exp(l) / z);
      const top = probabilities.indexOf(Math.max(...probabilities));
      const entropy = -probabilities.reduce((a, p) => a + p * Math.log(p), 0) / Math.log(probabilities.length);
      store.models.putPrediction({
        utteranceId,
        modelId,
        probabilities,
        predictedLabel: labelNames[top]!,
        confidence: probabilities[top]!,
        entropy,
        textGate: rnd(),
        textUsed: true,
        windows: 1,
        embedding,
        createdAt,
      });
      n++;
    }
    store.activeModelId = modelId;
  });
  return n;
}

async function benchOpenAndList(projectFile: string) {
  const section = '1. Open + list 10k';
  log('building the 10,000-utterance project');
  const built = await buildProject10k(projectFile);
  addValue(
    section,
    'build project (500 rec × 20 utt, one transaction)',
    fmtMs(built.createMs),
    `${built.humanLabelled} labelled, ${built.importedLabels} imported labels; file ${fmtBytes(built.fileBytes)}`,
    '1',
  );
  if (built.predictions) {
    addValue(
      section,
      `add ${built.predictions} predictions (${EMBEDDING_DIM}-float embeddings), active model`,
      fmtMs(built.predictMs),
      '',
      '1',
    );
  } else log('this core has no predictions: list cases without a model');

  log('open');
  const openMs: number[] = [];
  const infoMs: number[] = [];
  const firstListMs: number[] = [];
  const firstScreenMs: number[] = [];
  for (let i = 0; i < N.open; i++) {
    gc();
    const t0 = performance.now();
    const studio = await timed(() => Studio.open(projectFile, { create: false }), openMs);
    await timed(() => studio.info(), infoMs);
    const handlers = createHandlers(studio);
    await timed(() => invokeOperation(handlers, 'listUtterances', {}), firstListMs);
    firstScreenMs.push(since(t0));
    await studio.close();
  }
  addTiming(section, 'Studio.open (open db, pragmas, migrations check, missing-file check)', summarise(openMs));
  addTiming(section, 'studio.info() (counts, speakers)', summarise(infoMs));
  addTiming(
    section,
    'open → info → first listUtterances(all)',
    summarise(firstScreenMs),
    `first list in a fresh connection: ${fmtMs(summarise(firstListMs).median)}`,
  );

  const studio = Studio.open(projectFile, { create: false });
  const handlers = createHandlers(studio);
  const missingMs: number[] = [];
  for (let i = 0; i < N.open; i++) await timed(() => studio.store.refreshMissing(), missingMs);
  addTiming(section, `  of which refreshMissing (${RECORDINGS} × existsSync)`, summarise(missingMs));

  log('listUtterances');
  const happy = built.labels.find((l) => l.name === 'happy') ?? built.labels[1]!;
  const cases: { name: string; filter: Record<string, unknown> }[] = [
    { name: 'all', filter: { status: 'all' } },
    { name: 'unlabelled', filter: { status: 'unlabelled' } },
    { name: `search "${SEARCH_WORD}"`, filter: { search: SEARCH_WORD } },
    { name: `label = ${happy.name}`, filter: { labelId: happy.id } },
    { name: 'unlabelled + speaker spk07', filter: { status: 'unlabelled', speaker: 'spk07' } },
  ];
  if (built.predictions) {
    cases.push(
      { name: 'sort by uncertainty', filter: { sort: 'uncertainty' } },
      { name: 'unlabelled, confidence < 0.5', filter: { status: 'unlabelled', maxConfidence: 0.5 } },
      { name: 'disagreement with the model', filter: { disagreement: true } },
    );
  }
  const list: Record<string, unknown> = {};
  for (const c of cases) {
    const ms: number[] = [];
    let out: { rows: UtteranceRow[]; total: number } | undefined;
    for (let i = 0; i < 2; i++) await invokeOperation(handlers, 'listUtterances', c.filter);
    for (let i = 0; i < N.list; i++) {
      out = (await timed(() => invokeOperation(handlers, 'listUtterances', c.filter), ms)) as typeof out;
    }
    const bytes = Buffer.byteLength(JSON.stringify(out));
    const s = summarise(ms);
    list[c.name] = { ...s, rows: out!.rows.length, jsonBytes: bytes };
    addTiming(
      section,
      `listUtterances ${c.name}`,
      s,
      `${out!.rows.length} rows, JSON ${fmtBytes(bytes)} (${Math.round(bytes / Math.max(1, out!.rows.length))} B/row)`,
    );
  }

  // The price of the prediction join: the same 'all' list with no active model, interleaved.
  if (built.predictions) {
    const store = studio.store;
    const modelId = store.activeModelId;
    const withModel: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < N.list; i++) {
      await timed(() => invokeOperation(handlers, 'listUtterances', {}), withModel);
      store.activeModelId = null;
      await timed(() => invokeOperation(handlers, 'listUtterances', {}), without);
      store.activeModelId = modelId;
    }
    const w = summarise(withModel);
    const wo = summarise(without);
    addTiming(
      section,
      'listUtterances all, no active model (interleaved)',
      wo,
      `with model ${fmtMs(w.median)}: ${ratio(w.median, wo.median)}`,
    );
    list['all (interleaved, with model)'] = w;
    list['all (interleaved, no model)'] = wo;

    // What-if: embeddings kept out of the predictions rows the list joins (emulated on a copy of
    // the project by emptying them), so a list touches ~100 bytes per prediction instead of ~3 KiB.
    const copy = path.join(WORK, 'project-10k-no-embeddings.sqlite');
    removeDb(copy);
    store.db.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`);
    const raw = new Database(copy);
    raw.exec(`UPDATE predictions SET embedding = x''; VACUUM;`);
    raw.close();
    const slim = Studio.open(copy, { create: false });
    const slimHandlers = createHandlers(slim);
    const shippedMs: number[] = [];
    const slimMs: number[] = [];
    for (let i = 0; i < N.list; i++) {
      await timed(() => invokeOperation(handlers, 'listUtterances', {}), shippedMs);
      await timed(() => invokeOperation(slimHandlers, 'listUtterances', {}), slimMs);
    }
    await slim.close();
    const sh = summarise(shippedMs);
    const sl = summarise(slimMs);
    addTiming(
      section,
      '  what-if embeddings stored outside the predictions table',
      sl,
      `shipped (interleaved) ${fmtMs(sh.median)}: ${ratio(sl.median, sh.median)}; file ` +
        `${fmtBytes(fs.statSync(copy).size)} vs ${fmtBytes(fs.statSync(projectFile).size)}`,
    );
    list['all (interleaved, shipped)'] = sh;
    list['all (what-if, no embeddings in predictions rows)'] = sl;
  }

  // What the 'all' list costs beyond the handler: serialising it for each transport.
  const all = (await invokeOperation(handlers, 'listUtterances', {})) as { rows: UtteranceRow[] };
  const stringifyMs: number[] = [];
  const cloneMs: number[] = [];
  for (let i = 0; i < N.list; i++) {
    await timed(() => JSON.stringify(all), stringifyMs);
    await timed(() => structuredClone(all), cloneMs);
  }
  addTiming(section, 'JSON.stringify(list all) (HTTP response body)', summarise(stringifyMs));
  addTiming(section, 'structuredClone(list all) (≈ Electron IPC serialisation)', summarise(cloneMs));

  // Where the list time goes: the same SQL statement run raw, and its query plan.
  const runs = await captureSql(studio.store.db, () => invokeOperation(handlers, 'listUtterances', {}));
  const listRun = runs.find((r) => r.sql.includes('ORDER BY')) ?? runs[0]!;
  const args = listRun.args as [];
  const stmt = studio.store.db.prepare(listRun.sql);
  const rawMs: number[] = [];
  for (let i = 0; i < N.list; i++) await timed(() => stmt.all(...args), rawMs);
  const plan = (studio.store.db.prepare(`EXPLAIN QUERY PLAN ${listRun.sql}`).all(...args) as { detail: string }[]).map(
    (r) => r.detail,
  );
  const prepareMs: number[] = [];
  for (let i = 0; i < N.list; i++) await timed(() => studio.store.db.prepare(listRun.sql), prepareMs);
  addTiming(section, '  of which the list SQL alone (prepared once, .all())', summarise(rawMs));
  addTiming(section, '  of which preparing the list SQL', summarise(prepareMs));

  results.openAndList = {
    project: { ...built, labels: undefined },
    open: summarise(openMs),
    info: summarise(infoMs),
    firstList: summarise(firstListMs),
    openInfoFirstList: summarise(firstScreenMs),
    refreshMissing: summarise(missingMs),
    list,
    stringifyAll: summarise(stringifyMs),
    structuredCloneAll: summarise(cloneMs),
    listSqlRaw: summarise(rawMs),
    listSqlPrepare: summarise(prepareMs),
    listQueryPlan: plan,
  };
  return { studio, handlers, labels: built.labels };
}

// ---------------------------------------------------------------- 2. label keypress -> committed

async function benchSetLabel(studio: Studio, handlers: Handlers, labelIds: number[]) {
  const section = '2. setLabel';
  log('setLabel (handlers vs loopback HTTP)');
  const token = 'bench-token-not-secret';
  const host = await startLoopbackHost({ studio, rendererDir: path.join(ROOT, 'out', 'renderer'), token });
  const base = `http://127.0.0.1:${host.port}/api/`;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  let k = 0;
  const nextInput = () => {
    k++;
    return { utteranceId: 1 + ((k * 7919) % (RECORDINGS * SEGMENTS)), labelId: labelIds[k % labelIds.length]! };
  };
  const direct = async (op: string, input: unknown) => invokeOperation(handlers, op, input);
  const overHttp = async (op: string, input: unknown) => {
    const res = await fetch(base + op, { method: 'POST', headers, body: JSON.stringify(input) });
    const body = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  // A second client, node:http with a keep-alive agent, to tell fetch's own cost from the server's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const overNodeHttp = (op: string, input: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const body = JSON.stringify(input);
      const req = http.request(
        {
          host: '127.0.0.1',
          port: host.port,
          path: `/api/${op}`,
          method: 'POST',
          agent,
          headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200) resolve(JSON.parse(text));
            else reject(new Error(`HTTP ${res.statusCode}: ${text}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const check = (out: unknown, input: { utteranceId: number; labelId: number }) => {
    const row = (out as { row: UtteranceRow }).row;
    if (row.id !== input.utteranceId || row.labelId !== input.labelId) throw new Error('setLabel did not take');
  };

  for (let i = 0; i < 20; i++) {
    for (const call of [direct, overHttp, overNodeHttp]) {
      const input = nextInput();
      check(await call('setLabel', input), input);
    }
  }
  // Blocks of 100 calls per transport, interleaved, so drift on a shared machine hits all alike.
  const directMs: number[] = [];
  const httpMs: number[] = [];
  const nodeHttpMs: number[] = [];
  const transports = [
    { call: direct, into: directMs },
    { call: overHttp, into: httpMs },
    { call: overNodeHttp, into: nodeHttpMs },
  ];
  for (let r = 0; r < N.setLabelRounds; r++) {
    for (const t of transports) {
      for (let i = 0; i < N.setLabelBlock; i++) {
        const input = nextInput();
        check(await timed(() => t.call('setLabel', input), t.into), input);
      }
    }
  }
  const d = summarise(directMs);
  const h = summarise(httpMs);
  const hn = summarise(nodeHttpMs);
  addTiming(section, 'setLabel via invokeOperation (validate + txn FULL + history + row)', d);
  addTiming(
    section,
    'setLabel via loopback HTTP (fetch POST, Bearer)',
    h,
    `HTTP / direct: median ${ratio(h.median, d.median)}, mean ${ratio(h.mean, d.mean)} (+${fmtMs(h.mean - d.mean)})`,
  );
  addTiming(
    section,
    'setLabel via loopback HTTP (node:http keep-alive client)',
    hn,
    `HTTP / direct: median ${ratio(hn.median, d.median)}, mean ${ratio(hn.mean, d.mean)} (+${fmtMs(hn.mean - d.mean)})`,
  );

  // Transport overhead on a trivial operation and on the big list response.
  const tinyDirect: number[] = [];
  const tinyHttp: number[] = [];
  const tinyNodeHttp: number[] = [];
  for (let i = 0; i < 200; i++) {
    await timed(() => direct('listLabels', {}), tinyDirect);
    await timed(() => overHttp('listLabels', {}), tinyHttp);
    await timed(() => overNodeHttp('listLabels', {}), tinyNodeHttp);
  }
  const td = summarise(tinyDirect);
  const th = summarise(tinyHttp);
  const thn = summarise(tinyNodeHttp);
  addTiming(section, 'listLabels via invokeOperation (transport-free floor)', td);
  addTiming(
    section,
    'listLabels via loopback HTTP (fetch)',
    th,
    `HTTP − direct = ${fmtMs(th.median - td.median)} per call`,
  );
  addTiming(
    section,
    'listLabels via loopback HTTP (node:http keep-alive)',
    thn,
    `HTTP − direct = ${fmtMs(thn.median - td.median)} per call`,
  );
  const bigDirect: number[] = [];
  const bigHttp: number[] = [];
  for (let i = 0; i < N.list; i++) {
    await timed(() => direct('listUtterances', {}), bigDirect);
    await timed(() => overHttp('listUtterances', {}), bigHttp);
  }
  const bd = summarise(bigDirect);
  const bh = summarise(bigHttp);
  addTiming(section, 'listUtterances all via invokeOperation', bd);
  addTiming(section, 'listUtterances all via loopback HTTP', bh, `HTTP / direct ${ratio(bh.median, bd.median)}`);
  agent.destroy();
  await host.close();

  // What-ifs, interleaved in rounds so drift hits them alike: commit without fsync (synchronous=NORMAL,
  // what WAL allows) and the shipped code with every prepared statement cached.
  log('setLabel what-ifs');
  const db = studio.store.db;
  const variants: { name: string; apply: () => () => void }[] = [
    { name: 'shipped (synchronous=FULL)', apply: () => () => {} },
    {
      name: 'what-if synchronous=NORMAL (no fsync per commit)',
      apply: () => {
        db.pragma('synchronous = NORMAL');
        return () => db.pragma('synchronous = FULL');
      },
    },
    { name: 'what-if prepared-statement cache (FULL)', apply: () => withStatementCache(db) },
    {
      name: 'what-if NORMAL + statement cache (CPU only)',
      apply: () => {
        db.pragma('synchronous = NORMAL');
        const uncache = withStatementCache(db);
        return () => {
          uncache();
          db.pragma('synchronous = FULL');
        };
      },
    },
  ];
  const whatIf = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < N.whatIfRounds; r++) {
    for (const v of variants) {
      const undo = v.apply();
      try {
        for (let i = 0; i < N.whatIfBlock; i++) {
          const input = nextInput();
          check(await timed(() => direct('setLabel', input), whatIf.get(v.name)!), input);
        }
      } finally {
        undo();
      }
    }
  }
  const shipped = summarise(whatIf.get(variants[0]!.name)!);
  const whatIfSummaries: Record<string, Summary> = {};
  for (const v of variants) {
    const s = summarise(whatIf.get(v.name)!);
    whatIfSummaries[v.name] = s;
    addTiming(section, `  ${v.name}`, s, v === variants[0] ? '' : `vs shipped ${ratio(s.median, shipped.median)}`);
  }
  {
    const normal = whatIfSummaries[variants[1]!.name]!;
    const both = whatIfSummaries[variants[3]!.name]!;
    table[table.length - 1]!.notes += `; vs NORMAL alone ${ratio(both.median, normal.median)}`;
  }
  if ((db.pragma('synchronous', { simple: true }) as number) !== 2) throw new Error('synchronous not restored');

  // Undo / redo walk the history table (10k+ rows by now) and the waveform of a 40 s recording.
  const undoMs: number[] = [];
  const redoMs: number[] = [];
  const waveMs: number[] = [];
  for (let i = 0; i < 50; i++) await timed(() => direct('undo', {}), undoMs);
  for (let i = 0; i < 50; i++) await timed(() => direct('redo', {}), redoMs);
  let waveBytes = 0;
  for (let i = 0; i < 50; i++) {
    const w = await timed(() => direct('getWaveform', { utteranceId: 1 + i * 97, contextSeconds: 0.5 }), waveMs);
    waveBytes = Buffer.byteLength(JSON.stringify(w));
  }
  const historyRows = (db.prepare('SELECT COUNT(*) AS n FROM history').get() as { n: number }).n;
  addTiming(section, 'undo via invokeOperation', summarise(undoMs), `history has ${historyRows} rows`);
  addTiming(section, 'redo via invokeOperation', summarise(redoMs));
  addTiming(section, 'getWaveform (40 s recording, ±0.5 s)', summarise(waveMs), `JSON ${fmtBytes(waveBytes)}`);

  results.setLabel = {
    direct: d,
    http: h,
    httpNodeClient: hn,
    httpOverDirectMedian: h.median / d.median,
    listLabels: { direct: td, http: th, httpNodeClient: thn },
    listUtterancesAll: { direct: bd, http: bh },
    whatIf: whatIfSummaries,
    undo: summarise(undoMs),
    redo: summarise(redoMs),
    getWaveform40s: { ...summarise(waveMs), jsonBytes: waveBytes },
    historyRows,
  };
}

// ---------------------------------------------------------------- 3. import throughput

interface ShortSet {
  dir: string;
  files: number;
}

async function shortFixtures(): Promise<{ wav: ShortSet; small: { name: string; set: ShortSet }[] }> {
  const dir = path.join(WORK, 'short-wav');
  const done = path.join(WORK, 'short-wav.done');
  const count = 1000;
  if (!fs.existsSync(done)) {
    log(`writing ${count} short WAV files`);
    fs.rmSync(dir, { recursive: true, force: true });
    const rnd = prng(1000);
    for (let i = 0; i < count; i++) {
      const spk = `spk${String((i % 10) + 1).padStart(2, '0')}`;
      const stem = path.join(dir, spk, `utt-${String(i + 1).padStart(4, '0')}`);
      fs.mkdirSync(path.dirname(stem), { recursive: true });
      writeWav(`${stem}.wav`, synthSpeech(1 + rnd() * 2, SR, 5000 + i), SR);
      fs.writeFileSync(`${stem}.txt`, `${transcript(rnd)}\n`);
    }
    fs.writeFileSync(done, String(count));
  }
  const wav = { dir, files: count };

  // The same first 100 files as WAV, FLAC and MP3.
  const small: { name: string; set: ShortSet }[] = [];
  const first = fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .slice(0, 100);
  const variants: { name: string; ext: string; args: string[] | null }[] = [
    { name: 'WAV', ext: '.wav', args: null },
    { name: 'FLAC', ext: '.flac', args: ['-c:a', 'flac'] },
    { name: 'MP3 64k', ext: '.mp3', args: ['-c:a', 'libmp3lame', '-b:a', '64k'] },
  ];
  const ffmpeg = hasTool('ffmpeg');
  for (const v of variants) {
    if (v.args && !ffmpeg) {
      log(`ffmpeg not found: skipping the ${v.name} import`);
      continue;
    }
    const out = path.join(WORK, `short100-${v.ext.slice(1)}`);
    const marker = `${out}.done`;
    if (!fs.existsSync(marker)) {
      log(`preparing 100 ${v.name} files`);
      fs.rmSync(out, { recursive: true, force: true });
      const jobs: { from: string; to: string }[] = [];
      for (const rel of first) {
        const from = path.join(dir, rel);
        const to = path.join(out, rel.replace(/\.wav$/, v.ext));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from.replace(/\.wav$/, '.txt'), to.replace(/\.[^.]+$/, '.txt'));
        if (v.args) jobs.push({ from, to });
        else fs.copyFileSync(from, to);
      }
      if (v.args) await ffmpegAll(jobs, v.args);
      fs.writeFileSync(marker, '100');
    }
    small.push({ name: v.name, set: { dir: out, files: 100 } });
  }
  return { wav, small };
}

async function importOnce(set: ShortSet, synchronous: 'FULL' | 'NORMAL') {
  const file = path.join(WORK, 'import-run.sqlite');
  removeDb(file);
  const studio = Studio.open(file, { create: true });
  if (synchronous === 'NORMAL') studio.store.db.pragma('synchronous = NORMAL');
  gc();
  const t0 = performance.now();
  const job = studio.jobs.start('import', 'bench import', (ctx) => studio.importer.importPath(set.dir, ctx));
  const status = await studio.jobs.wait(job);
  const ms = since(t0);
  const report = status.result as ImportReport | undefined;
  if (status.state !== 'succeeded' || !report) throw new Error(`import failed: ${status.error ?? status.state}`);
  if (report.recordingsAdded !== set.files || report.failures.length) {
    throw new Error(`import: ${report.recordingsAdded}/${set.files} added, ${JSON.stringify(report.failures[0])}`);
  }
  const audioS = (studio.store.db.prepare('SELECT SUM(duration_s) AS s FROM recordings').get() as { s: number }).s;
  const bytes = (studio.store.db.prepare('SELECT SUM(size_bytes) AS b FROM recordings').get() as { b: number }).b;
  await studio.close();
  return { ms, audioS, bytes };
}

/**
 * What-if: the same import, but with the commits batched (one outer transaction committed every
 * `every` files; the importer's own transactions become savepoints inside it). Runs importPath with
 * its own context instead of the JobRunner's, which only adds throttled progress events.
 */
async function importBatched(set: ShortSet, every: number) {
  const file = path.join(WORK, 'import-run.sqlite');
  removeDb(file);
  const studio = Studio.open(file, { create: true });
  const db = studio.store.db;
  gc();
  const t0 = performance.now();
  db.exec('BEGIN');
  const report = await studio.importer.importPath(set.dir, {
    signal: new AbortController().signal,
    progress: (done) => {
      if (done > 0 && done % every === 0) {
        db.exec('COMMIT');
        db.exec('BEGIN');
      }
    },
  });
  db.exec('COMMIT');
  const ms = since(t0);
  if (report.recordingsAdded !== set.files || report.failures.length) throw new Error('batched import failed');
  await studio.close();
  return { ms };
}

async function benchImport() {
  const section = '3. Import';
  const { wav, small } = await shortFixtures();

  log('import 1,000 WAV (FULL and NORMAL interleaved)');
  const full: { ms: number; audioS: number }[] = [];
  const normal: { ms: number; audioS: number }[] = [];
  const batched: { ms: number }[] = [];
  for (let r = 0; r < Math.max(N.importFull, N.importNormal); r++) {
    if (r < N.importFull) full.push(await importOnce(wav, 'FULL'));
    if (r < N.importNormal) normal.push(await importOnce(wav, 'NORMAL'));
    if (r < N.importNormal) batched.push(await importBatched(wav, 50));
  }
  const audioS = full[0]!.audioS;
  const fullS = summarise(full.map((x) => x.ms));
  const normalS = summarise(normal.map((x) => x.ms));
  const rate = (ms: number, files: number, secs: number) =>
    `${((files * 1000) / ms).toFixed(0)} files/s, ${((secs * 1000) / ms).toFixed(0)} audio-s/s`;
  addTiming(
    section,
    `importPath ${wav.files} WAV (1–3 s, 16 kHz; ${audioS.toFixed(0)} s audio) via JobRunner`,
    fullS,
    rate(fullS.median, wav.files, audioS),
  );
  addTiming(
    section,
    '  what-if synchronous=NORMAL (same files)',
    normalS,
    `${rate(normalS.median, wav.files, audioS)}; vs shipped ${ratio(normalS.median, fullS.median)}`,
  );

  const batchedS = summarise(batched.map((x) => x.ms));
  addTiming(
    section,
    '  what-if one commit per 50 files (FULL)',
    batchedS,
    `${rate(batchedS.median, wav.files, audioS)}; vs shipped ${ratio(batchedS.median, fullS.median)}`,
  );

  // The CPU part alone, file by file, no database: read + decode, sha256, peaks.
  log('import stages without the database');
  const files = fs
    .readdirSync(wav.dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => path.join(wav.dir, f));
  // Per file, the shipped read + decode and, interleaved, the what-if direct PCM16 decode.
  let decodeMs = 0;
  let hashMs = 0;
  let peaksMs = 0;
  let directMs = 0;
  let directIdentical = true;
  const t0 = performance.now();
  for (const f of files) {
    let t = performance.now();
    const audio = await decodeAudioFile(f);
    decodeMs += since(t);
    t = performance.now();
    createHash('sha256').update(audio.bytes).digest('hex');
    hashMs += since(t);
    t = performance.now();
    computePeaks(audio.channels, audio.sampleRate, PEAKS_PER_SECOND);
    peaksMs += since(t);
    t = performance.now();
    const direct = decodePcm16Wav(await fs.promises.readFile(f));
    directMs += since(t);
    directIdentical &&= maxDiff(direct.channels[0]!, audio.channels[0]!) === 0;
  }
  const cpuMs = since(t0) - directMs;
  addValue(
    section,
    '  CPU stages only, no DB (read+decode / sha256 / peaks)',
    fmtMs(cpuMs),
    `${fmtMs(decodeMs)} / ${fmtMs(hashMs)} / ${fmtMs(peaksMs)}; ${(cpuMs / fullS.median).toFixed(2)} of an import run`,
    '1',
  );
  addValue(
    section,
    '  what-if read + direct PCM16 decode (inspectWav, no audio-decode)',
    fmtMs(directMs),
    `vs read+decode ${ratio(directMs, decodeMs)}; identical samples: ${directIdentical}`,
    '1',
  );

  log('import 100 files: WAV vs FLAC vs MP3');
  const smallRuns = new Map<string, { ms: number; audioS: number; bytes: number }[]>(small.map((s) => [s.name, []]));
  for (let r = 0; r < N.importSmall; r++) {
    for (const s of small) smallRuns.get(s.name)!.push(await importOnce(s.set, 'FULL'));
  }
  const smallOut: Record<string, unknown> = {};
  const wavSmall = summarise(smallRuns.get('WAV')!.map((x) => x.ms));
  for (const s of small) {
    const runs = smallRuns.get(s.name)!;
    const sum = summarise(runs.map((x) => x.ms));
    smallOut[s.name] = { ...sum, audioS: runs[0]!.audioS, bytes: runs[0]!.bytes };
    addTiming(
      section,
      `importPath 100 ${s.name} (same 100 utterances)`,
      sum,
      `${rate(sum.median, 100, runs[0]!.audioS)}; ${fmtBytes(runs[0]!.bytes)}; vs WAV ${ratio(sum.median, wavSmall.median)}`,
    );
  }
  results.import = {
    wav1000: {
      ...fullS,
      audioS,
      filesPerS: (wav.files * 1000) / fullS.median,
      audioSPerS: (audioS * 1000) / fullS.median,
    },
    wav1000Normal: normalS,
    wav1000BatchedCommits50: batchedS,
    cpuOnly: { totalMs: cpuMs, decodeMs, hashMs, peaksMs, whatIfDirectPcm16DecodeMs: directMs, directIdentical },
    small: smallOut,
  };
}

// ---------------------------------------------------------------- 4. a 1-hour recording

async function benchLongFile() {
  const section = '4. 1-hour file';
  const file = path.join(WORK, 'long-1h.wav');
  const expected = 44 + 3600 * SR * 2;
  if (!fs.existsSync(file) || fs.statSync(file).size !== expected) {
    log('writing the 1-hour WAV');
    writeLongWav(file, 3600, SR, 3600);
  }
  log('1-hour file: decode, peaks, memory (child process)');
  const out = path.join(WORK, 'long-file.json');
  fs.rmSync(out, { force: true });
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, path.join(ROOT, 'benchmarks', 'long-file.bench.ts'), file, out, WORK, String(N.longDecode)],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (child.status !== 0) throw new Error(`long-file part failed (exit ${child.status})`);
  const r = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    file: { bytes: number; durationS: number };
    decode: Summary;
    computePeaks: Summary & { bins: number };
    memory: {
      baseline: { rssMiB: number; heapUsedMiB: number };
      afterDecode: { rssMiB: number; heapUsedMiB: number; arrayBuffersMiB: number };
      peakDuringDecodeAndPeaks: { maxRssMiB: number; sampled: { heapUsedMiB: number; arrayBuffersMiB: number } };
    };
    importEndToEnd: { ms: number; segments: number };
    waveform: Summary & { jsonBytes: number; firstMs: number };
    clip: { firstMs: number; warm: Summary };
    sha256: { ms: number };
    whatIfStreaming: Summary & { maxRssMiB: number; matches: { checksum: boolean; peaksMaxDiff: number } };
    whatIfClipByRange: Summary & { identicalBytes: boolean };
    peaksBlob: { whole: Summary; whatIfSubstr: Summary; identical: boolean };
  };
  const m = r.memory;
  addTiming(
    section,
    `decodeAudioFile 1 h WAV (${fmtBytes(r.file.bytes)}, 16 kHz mono 16-bit)`,
    r.decode,
    `${(r.file.durationS / (r.decode.median / 1000)).toFixed(0)}× real time`,
  );
  addTiming(section, 'computePeaks 1 h (57.6 M samples → 100/s)', r.computePeaks, `${r.computePeaks.bins} bins`);
  addValue(
    section,
    'peak RSS during decode + peaks (child process)',
    `${m.peakDuringDecodeAndPeaks.maxRssMiB.toFixed(0)} MiB`,
    `baseline ${m.baseline.rssMiB.toFixed(0)} MiB; after decode rss ${m.afterDecode.rssMiB.toFixed(0)} MiB, ` +
      `heap ${m.afterDecode.heapUsedMiB.toFixed(0)} MiB, arrayBuffers ${m.afterDecode.arrayBuffersMiB.toFixed(0)} MiB`,
  );
  const shippedCpu = r.decode.median + r.sha256.ms + r.computePeaks.median;
  const st = r.whatIfStreaming;
  addTiming(
    section,
    '  what-if streaming sha256 + peaks from 1 MiB reads (no decode)',
    st,
    `peak RSS ${st.maxRssMiB.toFixed(0)} MiB; vs decode+sha256+peaks (${fmtMs(shippedCpu)}) ` +
      `${ratio(st.median, shippedCpu)}; same checksum: ${st.matches.checksum}, peaks max diff ${st.matches.peaksMaxDiff}`,
  );
  addValue(
    section,
    `import 1 h WAV + manifest of ${r.importEndToEnd.segments} × 20 s segments`,
    fmtMs(r.importEndToEnd.ms),
    '',
    '1',
  );
  addTiming(
    section,
    'getWaveform of a 20 s segment in the 1 h recording',
    r.waveform,
    `after 20 warm-up calls; first call ${fmtMs(r.waveform.firstMs)}; JSON ${fmtBytes(r.waveform.jsonBytes)}`,
  );
  addTiming(section, '  of which reading the whole peaks blob (1.4 MB)', r.peaksBlob.whole);
  addTiming(
    section,
    '  what-if substr() of the clip’s peaks only',
    r.peaksBlob.whatIfSubstr,
    `vs whole blob ${ratio(r.peaksBlob.whatIfSubstr.median, r.peaksBlob.whole.median)}; identical: ${r.peaksBlob.identical}`,
  );
  addValue(section, 'first clip.wav of a segment (cold: decodes the whole hour)', fmtMs(r.clip.firstMs), '', '1');
  addTiming(section, 'next clip.wav requests (decoded-audio cache hit)', r.clip.warm);
  addTiming(
    section,
    '  what-if clip.wav read from its WAV byte range (no cache)',
    r.whatIfClipByRange,
    `vs cold ${ratio(r.whatIfClipByRange.median, r.clip.firstMs)}; identical bytes: ${r.whatIfClipByRange.identicalBytes}`,
  );
  results.longFile = r;
}

// ---------------------------------------------------------------- main

const env = environment();
results.environment = env;
results.loadAverageAtStart = os.loadavg();
log(`${env.cpuModel}, ${env.nproc} CPUs, node ${env.node}, SQLite ${env.sqlite}${QUICK ? ' (QUICK)' : ''}`);
const fsync = fsyncBaseline();
results.fsync = fsync;
addTiming('0. Disk', 'write 4 KiB + fsync (commit-latency floor)', fsync);

const projectFile = path.join(WORK, 'project-10k.sqlite');
const { studio, handlers, labels } = await benchOpenAndList(projectFile);
try {
  await benchSetLabel(
    studio,
    handlers,
    labels.map((l) => l.id),
  );
} finally {
  await studio.close();
}
await benchImport();
await benchLongFile();

const totalS = since(started) / 1000;
results.totalSeconds = totalS;
results.loadAverageAtEnd = os.loadavg();
results.table = table;
fs.writeFileSync(path.join(WORK, 'results.json'), JSON.stringify(results, null, 2));

const md = markdownTable(
  ['Section', 'Case', 'n', 'Median', 'p95', 'p99', 'Mean', 'Notes'],
  table.map((r) => [r.section, r.case, r.n, r.median, r.p95, r.p99, r.mean, r.notes]),
);
console.log(
  `\nWavFusion Studio benchmarks — ${env.cpuModel}, ${env.nproc} CPUs, node ${env.node}, ${env.date}\n\n${md}\n`,
);
console.log(
  `Load average (1 min) at start ${(results.loadAverageAtStart as number[])[0]!.toFixed(2)}, at end ${os.loadavg()[0]!.toFixed(2)}.`,
);
console.log(`Total ${totalS.toFixed(1)} s. Results JSON: ${path.relative(ROOT, path.join(WORK, 'results.json'))}`);
