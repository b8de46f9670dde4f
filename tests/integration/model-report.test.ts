import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kappaOfPairs } from '../../src/main/agreement/stats';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import {
  MIN_REPORT_ITEMS,
  operations,
  type BulkAcceptPreview,
  type EventName,
  type ModelComparison,
  type ModelInfo,
  type ModelProvenance,
  type ModelReport,
  type OperationName,
} from '../../src/shared/contract';
import { DEMO_CORPUS, DEMO_MODEL, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/**
 * The model report, comparison, bulk accept and models list on a real project: the demo corpus, the
 * demo ONNX model run by the prediction service, labels set through the API.
 */
let studio: Studio;
let handlers: ReturnType<typeof createHandlers>;
let demoId: number;

/** Calls an operation through the contract and checks its output against the contract too. */
async function call<T>(name: OperationName, input: object = {}): Promise<T> {
  const out = await invokeOperation(handlers, name, input);
  return operations[name].output.parse(out) as T;
}

async function runModel(input: object = {}) {
  const { jobId } = await call<{ jobId: string }>('startPrediction', input);
  const status = await studio.jobs.wait(jobId);
  expect(status.state).toBe('succeeded');
}

function annotationsSnapshot() {
  return studio.store.db.prepare('SELECT * FROM annotations ORDER BY id').all();
}

function recordEvents() {
  const seen: EventName[] = [];
  const off = studio.subscribe((event) => {
    if (event !== 'jobUpdated') seen.push(event);
  });
  return { seen, off };
}

beforeAll(async () => {
  ({ studio } = openTempStudio());
  handlers = createHandlers(studio);
  await runImport(studio, DEMO_CORPUS);
  const models = await call<ModelInfo[]>('addModel', { path: DEMO_MODEL });
  demoId = models.find((m) => m.active)!.id;
  await runModel();
});
afterAll(async () => {
  await studio.close();
});

/** Labels the first `n` rows: every `wrongEvery`-th one differently from the model, the rest as the model. */
async function label(n: number, wrongEvery: number) {
  const labels = studio.store.labels.list();
  const rows = studio.store.rows().slice(0, n);
  for (const [i, row] of rows.entries()) {
    const predicted = row.prediction!.labelId!;
    const labelId = i % wrongEvery === wrongEvery - 1 ? labels.find((l) => l.id !== predicted)!.id : predicted;
    await call('setLabel', { utteranceId: row.id, labelId });
  }
}

describe('the model report', () => {
  it('says there is nothing to compare with before anyone labels', async () => {
    const r = await call<ModelReport>('getModelReport');
    expect(r).toMatchObject({ status: 'no_labels', labelled: 0, items: 0, metrics: null, calibration: null });
    expect(r.message).toMatch(/No human labels/);
  });

  it('says so instead of numbers below 20 labelled items', async () => {
    await label(MIN_REPORT_ITEMS - 1, 4);
    const r = await call<ModelReport>('getModelReport', { modelId: demoId });
    expect(r).toMatchObject({ status: 'too_few', items: MIN_REPORT_ITEMS - 1, metrics: null, calibration: null });
    expect(r.message).toMatch(/Only 19 labelled utterance\(s\).*at least 20/);
    expect(r.perClass.every((c) => c.recall === null && c.f1 === null)).toBe(true);
    // counts are counts: the confusion matrix is there
    expect(r.confusion.counts.flat().reduce((a, b) => a + b, 0)).toBe(MIN_REPORT_ITEMS - 1);
  });

  it('gives WA, UA, F1, κ, per-class figures, confusion and calibration from the stored predictions', async () => {
    await label(24, 4); // 18 as the model said, 6 not
    const r = await call<ModelReport>('getModelReport');
    expect(r).toMatchObject({ status: 'ok', message: null, labelled: 24, items: 24 });
    expect(r.metrics!.wa).toBeCloseTo(18 / 24, 12);
    expect(r.classes.map((c) => c.label)).toEqual(['neutral', 'happy', 'angry', 'sad']);
    // recomputed here from the rows: human label vs the model's label
    const rows = studio.store.rows({ status: 'labelled' });
    const index = new Map(r.classes.map((c, i) => [c.labelId, i]));
    const pairs = rows.map((row) => [index.get(row.labelId)!, index.get(row.prediction!.labelId)!] as const);
    const counts = r.classes.map(() => r.classes.map(() => 0));
    for (const [t, p] of pairs) counts[t]![p]!++;
    expect(r.confusion.counts).toEqual(counts);
    expect(r.metrics!.kappa).toBeCloseTo(kappaOfPairs(pairs)!, 12);
    r.perClass.forEach((c, i) => {
      expect(c.support).toBe(counts[i]!.reduce((a, b) => a + b, 0));
      if (c.support > 0) expect(c.recall).toBeCloseTo(counts[i]![i]! / c.support, 12);
      else expect(c.recall).toBeNull();
    });
    r.confusion.normalised.forEach((row, i) => {
      if (row) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      else expect(r.perClass[i]!.support).toBe(0);
    });
    expect(r.calibration!.bins).toHaveLength(10);
    expect(r.calibration!.bins.reduce((a, b) => a + b.count, 0)).toBe(24);
    expect(r.calibration!.ece).toBeGreaterThanOrEqual(0);
    expect(r.calibration!.thresholds.map((t) => t.target)).toEqual([0.9, 0.95]);
    for (const t of r.calibration!.thresholds)
      if (t.threshold !== null) expect(t.precision).toBeGreaterThanOrEqual(t.target);
    // breakdowns: every group here is small, so each says so instead of numbers
    expect(r.breakdowns.transcript).toEqual([
      { key: 'with transcript', n: 24, metrics: expect.objectContaining({ n: 24 }), note: null },
    ]);
    expect(r.breakdowns.speaker.map((g) => g.key)).toEqual(['spk_a', 'spk_b', 'spk_c']);
    expect(r.breakdowns.speaker.every((g) => g.metrics === null && /fewer than 20/.test(g.note!))).toBe(true);
    expect(r.breakdowns.folder).toEqual([
      { key: DEMO_CORPUS, n: 24, metrics: expect.objectContaining({ n: 24 }), note: null },
    ]);
  });

  it('reports on a filter, and warns about unpredicted labelled items', async () => {
    const r = await call<ModelReport>('getModelReport', { filter: { speaker: 'spk_a' } });
    expect(r).toMatchObject({ status: 'too_few', labelled: 9, items: 9 });
    const unpredicted = studio.store.rows({ speaker: 'spk_d' })[0]!;
    await call('setLabel', { utteranceId: unpredicted.id, labelId: studio.store.labels.list()[0]!.id });
    studio.store.db.prepare('DELETE FROM prediction_embeddings WHERE utterance_id = ?').run(unpredicted.id);
    studio.store.db.prepare('DELETE FROM predictions WHERE utterance_id = ?').run(unpredicted.id);
    const all = await call<ModelReport>('getModelReport');
    expect(all).toMatchObject({ labelled: 25, items: 24 });
    expect(all.warnings.join('\n')).toMatch(/1 labelled utterance\(s\) have no prediction/);
    await call('undo');
    await runModel();
  });
});

describe('two model versions side by side', () => {
  let otherId: number;

  it('compares on the same utterances: deltas, and the items one gets right and the other wrong', async () => {
    // Another version of the model: the same graph with neutral and happy swapped in its label list.
    const dir = path.join(tempDir(), 'swapped');
    fs.cpSync(DEMO_MODEL, dir, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    manifest.version = '0.1.0-swapped';
    manifest.labels = ['happy', 'neutral', 'angry', 'sad'];
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
    const models = await call<ModelInfo[]>('addModel', { path: dir });
    otherId = models.find((m) => m.active)!.id;
    expect(otherId).not.toBe(demoId);
    await runModel();

    const c = await call<ModelComparison>('compareModels', { a: demoId, b: otherId });
    expect(c).toMatchObject({ status: 'ok', items: 24, a: { id: demoId }, b: { id: otherId } });
    const a = await call<ModelReport>('getModelReport', { modelId: demoId });
    const b = await call<ModelReport>('getModelReport', { modelId: otherId });
    expect(c.metricsA).toEqual(a.metrics);
    expect(c.metricsB).toEqual(b.metrics);
    expect(c.deltas!.wa).toBeCloseTo(b.metrics!.wa! - a.metrics!.wa!, 12);
    // Only neutral/happy predictions differ between the two, and there one of them is right at most.
    const rightA = c.aRightBWrong.items.every((i) => i.human === i.a && i.human !== i.b);
    const rightB = c.bRightAWrong.items.every((i) => i.human === i.b && i.human !== i.a);
    expect(rightA && rightB).toBe(true);
    expect(c.aRightBWrong.count - c.bRightAWrong.count).toBe(Math.round((a.metrics!.wa! - b.metrics!.wa!) * 24));
    expect(c.aRightBWrong.count + c.bRightAWrong.count).toBeGreaterThan(0);
  });

  it('renames a model for the team, keeping the bundle name that identifies it', async () => {
    const models = await call<ModelInfo[]>('renameModel', { id: otherId, name: '  swapped labels  ' });
    expect(models.find((m) => m.id === otherId)).toMatchObject({
      name: 'swapped labels',
      bundleName: 'wavfusion-demo',
    });
    expect((await call<ModelReport>('getModelReport', { modelId: otherId })).model.name).toBe('swapped labels');
    const back = await call<ModelInfo[]>('renameModel', { id: otherId, name: null });
    expect(back.find((m) => m.id === otherId)!.name).toBe('wavfusion-demo');
  });

  it('shows where a model came from (model.json: training data, recipe, metrics)', async () => {
    const p = await call<ModelProvenance>('getModelProvenance', { id: demoId });
    const manifest = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8'));
    expect(p).toMatchObject({ available: true, bundleName: manifest.name, version: manifest.version, predictions: 36 });
    expect(p.training).toEqual(manifest.training);
    expect(p.config).toBe(manifest.config.name);
  });

  it('removes a model with its predictions; the newest other model becomes active', async () => {
    const events = recordEvents();
    const models = await call<ModelInfo[]>('removeModel', { id: otherId });
    events.off();
    expect(models.map((m) => m.id)).toEqual([demoId]);
    expect(models[0]!.active).toBe(true);
    expect(events.seen).toEqual(['modelsChanged', 'predictionsChanged']);
    const left = studio.store.db
      .prepare(
        'SELECT (SELECT COUNT(*) FROM predictions WHERE model_id = ?) + (SELECT COUNT(*) FROM prediction_embeddings WHERE model_id = ?) AS n',
      )
      .get(otherId, otherId) as { n: number };
    expect(left.n).toBe(0);
    expect(studio.store.models.predictedUtterances(demoId).size).toBe(36);
    await expect(call('removeModel', { id: otherId })).rejects.toThrow(/not found/i);
  });
});

describe('bulk accept by confidence', () => {
  it('previews the count and the expected precision, then accepts in one step that one undo reverts exactly', async () => {
    const unlabelled = studio.store.rows({ status: 'unlabelled' });
    const confidences = unlabelled.map((r) => r.prediction!.confidence).sort((x, y) => x - y);
    const threshold = confidences[Math.floor(confidences.length / 2)]!;
    const expected = unlabelled.filter((r) => r.prediction!.confidence >= threshold);

    const preview = await call<BulkAcceptPreview>('previewBulkAccept', { threshold });
    expect(preview).toMatchObject({ threshold, count: expected.length, unknownLabel: 0, model: { id: demoId } });
    const labelledAbove = studio.store
      .rows({ status: 'labelled' })
      .filter((r) => r.prediction!.confidence >= threshold);
    expect(preview.alreadyLabelled).toBe(labelledAbove.length);
    expect(preview.expectedPrecision.labelled).toBe(labelledAbove.length);
    const right = labelledAbove.filter((r) => r.labelId === r.prediction!.labelId).length;
    expect(preview.expectedPrecision.precision).toBeCloseTo(right / labelledAbove.length, 12);
    expect(preview.meanConfidence).toBeCloseTo(
      expected.reduce((a, r) => a + r.prediction!.confidence, 0) / expected.length,
      12,
    );

    const before = annotationsSnapshot();
    const historyBefore = studio.store.annotations.history().length;
    await expect(call('bulkAccept', { threshold, expectedCount: expected.length + 1 })).rejects.toThrow(
      /preview again/,
    );
    expect(annotationsSnapshot()).toEqual(before);

    const events = recordEvents();
    const { accepted } = await call<{ accepted: number }>('bulkAccept', { threshold, expectedCount: preview.count });
    events.off();
    expect(accepted).toBe(expected.length);
    expect(events.seen).toEqual(['utterancesChanged']);
    for (const r of expected) expect(studio.store.row(r.id)!.labelId).toBe(r.prediction!.labelId);
    const batch = studio.store.annotations.history().slice(historyBefore);
    expect(batch).toHaveLength(expected.length);
    expect(new Set(batch.map((h) => h.batch)).size).toBe(1);

    // one undo restores exactly what was there
    const undone = recordEvents();
    await call('undo');
    undone.off();
    expect(undone.seen).toEqual(['utterancesChanged']);
    expect(annotationsSnapshot()).toEqual(before);
    // one redo brings all of it back; another undo takes it away again
    await call('redo');
    for (const r of expected) expect(studio.store.row(r.id)!.labelId).toBe(r.prediction!.labelId);
    await call('undo');
    expect(annotationsSnapshot()).toEqual(before);
    // and the undo after that reverts the single edit made before the bulk accept, as before
    const lastSingle = studio.store.annotations.nextUndo(studio.store.annotator)!;
    expect(lastSingle.batch).toBeNull();
  });

  it('keeps to the filter and never overwrites a label of yours', async () => {
    const preview = await call<BulkAcceptPreview>('previewBulkAccept', { threshold: 0, filter: { speaker: 'spk_d' } });
    const rows = studio.store.rows({ speaker: 'spk_d' });
    expect(preview.count).toBe(rows.filter((r) => r.labelId === null).length);
    expect(preview.alreadyLabelled).toBe(rows.filter((r) => r.labelId !== null).length);
    const { accepted } = await call<{ accepted: number }>('bulkAccept', {
      threshold: 0,
      filter: { speaker: 'spk_d' },
      expectedCount: preview.count,
    });
    expect(accepted).toBe(preview.count);
    expect(studio.store.rows({ status: 'unlabelled' }).every((r) => r.speaker !== 'spk_d')).toBe(true);
    await call('undo');
    expect(studio.store.rows({ speaker: 'spk_d', status: 'unlabelled' })).toHaveLength(preview.count);
  });
});
