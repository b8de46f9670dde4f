import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import type { PredictionReport } from '../../src/shared/contract';
import { DEMO_CORPUS, DEMO_MODEL, openTempStudio, runImport } from '../helpers/fixtures';

let studio: Studio;
let handlers: ReturnType<typeof createHandlers>;

beforeAll(async () => {
  ({ studio } = openTempStudio());
  handlers = createHandlers(studio);
  await runImport(studio, DEMO_CORPUS);
  await invokeOperation(handlers, 'addModel', { path: DEMO_MODEL });
});
afterAll(async () => {
  await studio.close();
});

async function runModel(input: object = {}): Promise<PredictionReport> {
  const { jobId } = (await invokeOperation(handlers, 'startPrediction', input)) as { jobId: string };
  const status = await studio.jobs.wait(jobId);
  expect(status.error).toBeUndefined();
  expect(status.state).toBe('succeeded');
  return status.result as PredictionReport;
}

describe('running the model over a project', () => {
  it('predicts every utterance, with progress in items, audio seconds and × real time', async () => {
    const updates: { metrics?: Record<string, unknown>; done: number; total: number }[] = [];
    const off = studio.subscribe((event, payload) => {
      if (event === 'jobUpdated') updates.push(payload as (typeof updates)[number]);
    });
    const report = await runModel();
    off();
    expect(report).toMatchObject({ predicted: 36, skipped: 0, failures: [], cancelled: false });
    expect(report.audioSeconds).toBeGreaterThan(36);
    expect(report.realtimeFactor).toBeGreaterThan(0);
    const last = updates.at(-1)!;
    expect([last.done, last.total]).toEqual([36, 36]);
    expect(last.metrics).toMatchObject({
      device: expect.any(String),
      audioSeconds: expect.any(Number),
      realtimeFactor: expect.any(Number),
    });
    const info = studio.info();
    expect(info.model).toMatchObject({
      name: JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8')).name,
    });
    // The device actually used, never the 'auto' that was asked for.
    expect(['cpu', 'cuda', 'webgpu']).toContain(info.inference?.device);
    expect(['cpu', 'cuda', 'webgpu']).toContain(report.device);
    expect(studio.store.rows().every((r) => r.prediction !== null)).toBe(true);
  });

  it('resumes: a second run skips what this model version already predicted', async () => {
    const report = await runModel();
    expect(report).toMatchObject({ predicted: 0, skipped: 36 });
    const again = await runModel({ recompute: true, filter: { speaker: 'spk_a' } });
    expect(again).toMatchObject({ predicted: 9, skipped: 0 });
  });

  it('stores scores, text gate and embedding per utterance and model', () => {
    const row = studio.store.rows()[0]!;
    const p = studio.predictions.prediction(row.id)!;
    expect(p.scores.map((s) => s.label)).toEqual(['neutral', 'happy', 'angry', 'sad']);
    expect(p.scores.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 5);
    expect(p.predicted.confidence).toBe(Math.max(...p.scores.map((s) => s.probability)));
    expect(p.textUsed).toBe(true);
    expect(p.textGate).toBeGreaterThanOrEqual(0);
    expect(p.textGate).toBeLessThanOrEqual(1);
    const stored = studio.store.models.prediction(row.id, p.model.id)!;
    expect(stored.embedding.length).toBeGreaterThan(8);
  });

  it('sorts by uncertainty and filters low confidence and model–human disagreement', async () => {
    const byEntropy = studio.store.rows({ sort: 'uncertainty' });
    const entropies = byEntropy.map((r) => r.prediction!.entropy);
    expect(entropies).toEqual([...entropies].sort((a, b) => b - a));
    const threshold = byEntropy.map((r) => r.prediction!.confidence).sort((a, b) => a - b)[10]!;
    const low = studio.store.rows({ maxConfidence: threshold });
    expect(low.length).toBe(10);
    expect(low.every((r) => r.prediction!.confidence < threshold)).toBe(true);

    const [a, b] = studio.store.rows();
    const other = studio.store.labels.list().find((l) => l.id !== a!.prediction!.labelId)!;
    await invokeOperation(handlers, 'setLabel', { utteranceId: a!.id, labelId: other.id });
    await invokeOperation(handlers, 'setLabel', { utteranceId: b!.id, labelId: b!.prediction!.labelId });
    expect(studio.store.rows({ disagreement: true }).map((r) => r.id)).toEqual([a!.id]);
  });

  it('accepts the prediction as the human label, undoably', async () => {
    const row = studio.store.rows({ status: 'unlabelled' })[0]!;
    const result = (await invokeOperation(handlers, 'acceptPrediction', { utteranceId: row.id })) as {
      row: { labelId: number };
    };
    expect(result.row.labelId).toBe(row.prediction!.labelId);
    await invokeOperation(handlers, 'undo', {});
    expect(studio.store.row(row.id)!.labelId).toBeNull();
  });

  it('refuses a bundle that does not fit and keeps the active model', async () => {
    const before = studio.predictions.listModels();
    await expect(invokeOperation(handlers, 'addModel', { path: path.join(DEMO_CORPUS) })).rejects.toThrow(
      /no model\.json/,
    );
    expect(studio.predictions.listModels()).toEqual(before);
  });
});
