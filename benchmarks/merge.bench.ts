/**
 * Merging hand-out copies (issue 11, item 4) at corpus scale: a project of 100,000 utterances (1,000
 * recordings × 100 segments) handed out twice; in copy A ann1, ann2 and ann3 label utterances, in copy B
 * ann4, ann5 and ann3 do (ann3 works in both: 5,000 utterances labelled in both are conflicts), so
 * the merged project holds 5 annotators' 500,000 annotations and as many history entries. Times:
 * each merge, each merge in the other order, a second merge of a copy (changes nothing), the full
 * agreement report of the merged project (without and with 200 bootstrap replicates), undoMerge.
 * `node --import tsx benchmarks/merge.bench.ts` (BENCH_UTTERANCES to change the size).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../src/main/api/studio';
import { handOut } from '../src/main/merge/handout';
import type { MergeReport } from '../src/shared/contract';

const N = Number(process.env.BENCH_UTTERANCES ?? 100_000);
const PER_RECORDING = 100;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-merge-bench-'));
const base = path.join(dir, 'project.sqlite');

const t0 = performance.now();
const studio = Studio.open(base);
const { store } = studio;
store.transaction(() => {
  for (let r = 0; r < N / PER_RECORDING; r++) {
    const recordingId = store.recordings.insert({
      path: path.join(dir, `rec${r}.wav`),
      fileName: `rec${r}.wav`,
      sizeBytes: 1,
      checksum: `checksum-${r}`,
      format: 'wav',
      durationS: PER_RECORDING,
      sampleRate: 16000,
      channels: 1,
      peaksPerSecond: 1,
      peaks: new Float32Array(1),
    });
    for (let i = 0; i < PER_RECORDING; i++)
      store.utterances.insert({ recordingId, start: i, end: i + 0.9, speaker: `s${r % 20}`, transcript: '' });
  }
});
const a = handOut(store, { out: path.join(dir, 'a.sqlite'), annotator: 'ann1' }).copy;
const b = handOut(store, { out: path.join(dir, 'b.sqlite'), annotator: 'ann4' }).copy;
await studio.close();

/** Labels `ids` as each annotator, with a history entry each, as offline labelling would. */
function label(
  file: string,
  work: { annotator: string; from: number; to: number }[],
  startMs: number,
  salt: number,
): void {
  const db = new Database(file);
  const labels = db.prepare('SELECT id FROM labels ORDER BY position').all() as { id: number }[];
  const put = db.prepare(
    `INSERT INTO annotations (utterance_id, origin, annotator, label_id, note, updated_at) VALUES (?, 'human', ?, ?, '', ?)`,
  );
  const log = db.prepare(
    `INSERT INTO history (at, annotator, utterance_id, op, before, after) VALUES (?, ?, ?, 'edit', NULL, ?)`,
  );
  let ms = startMs;
  db.transaction(() => {
    for (const w of work)
      for (let u = w.from; u <= w.to; u++) {
        const at = new Date(ms++).toISOString();
        const labelId = labels[(u * 7 + salt) % labels.length]!.id;
        put.run(u, w.annotator, labelId, at);
        log.run(
          at,
          w.annotator,
          u,
          JSON.stringify({ labelId, valence: null, arousal: null, dominance: null, note: '', unsure: false }),
        );
      }
  })();
  db.close();
}
const half = N / 2;
const now = Date.now();
label(
  a,
  [
    { annotator: 'ann1', from: 1, to: N },
    { annotator: 'ann2', from: 1, to: N },
    { annotator: 'ann3', from: 1, to: half },
  ],
  now,
  0,
);
label(
  b,
  [
    { annotator: 'ann4', from: 1, to: N },
    { annotator: 'ann5', from: 1, to: N },
    { annotator: 'ann3', from: half - 0.05 * N + 1, to: N },
  ],
  now + 1,
  1,
);
const setupS = (performance.now() - t0) / 1000;
console.log(`setup: ${N} utterances, two copies labelled, ${setupS.toFixed(1)} s`);

async function timed<T>(what: string, fn: () => Promise<T> | T): Promise<{ what: string; seconds: number; out: T }> {
  const t = performance.now();
  const out = await fn();
  const seconds = (performance.now() - t) / 1000;
  console.log(`${what}: ${seconds.toFixed(2)} s`);
  return { what, seconds, out };
}
const summary = (r: MergeReport) =>
  `annotations +${r.annotations.added} ~${r.annotations.updated} =${r.annotations.unchanged}, history +${r.history.added}, conflicts ${r.conflictsResolved}`;

const results: { what: string; seconds: number }[] = [];
for (const [name, order] of [
  ['A then B', [a, b]],
  ['B then A', [b, a]],
] as const) {
  const file = path.join(dir, `merged-${name.replace(/ /g, '-')}.sqlite`);
  fs.copyFileSync(base, file);
  const s = Studio.open(file, { create: false });
  for (const [i, copy] of order.entries()) {
    const r = await timed(`${name}: merge ${i === 0 ? 'first' : 'second'} copy`, () => s.merges.merge(copy));
    console.log(`  ${summary(r.out)}`);
    results.push(r);
  }
  if (name === 'A then B') {
    const again = await timed('merge copy A again (changes nothing)', () => s.merges.merge(a));
    console.log(`  nothingChanged: ${again.out.nothingChanged}, conflicts reported: ${again.out.conflictsResolved}`);
    results.push(again);
    // the full agreement report over the merged project (5 annotators), before the undo takes B out
    for (const bootstrap of [0, 200]) {
      const report = await timed(`agreement report, ${bootstrap} bootstrap replicates`, () =>
        s.agreement.report({ bootstrap }),
      );
      console.log(
        `  annotators ${report.out.annotators.length}, items ${report.out.items} (${report.out.pairableItems} pairable)`,
      );
      results.push(report);
    }
    const undo = await timed('undoMerge (copy B)', () => s.merges.undoMerge());
    console.log(`  ${JSON.stringify(undo.out)}`);
    results.push(undo);
  }
  const total = (s.store.db.prepare('SELECT COUNT(*) AS n FROM annotations').get() as { n: number }).n;
  console.log(`  annotations in ${name}: ${total}`);
  await s.close();
}
console.log(
  JSON.stringify({
    utterances: N,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    results: results.map((r) => ({ what: r.what, seconds: +r.seconds.toFixed(2) })),
  }),
);
fs.rmSync(dir, { recursive: true, force: true });
