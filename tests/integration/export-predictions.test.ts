import { parse } from 'csv-parse/sync';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import {
  operations,
  type ExportRequest,
  type ExportSummary,
  type ModelInfo,
  type OperationName,
} from '../../src/shared/contract';
import { DEMO_MODEL, REPO_ROOT, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/**
 * Exports with the active model's prediction as columns, on a real project: demo clips of two
 * speakers, the demo ONNX model run by the prediction service on one speaker only (the other's rows
 * keep empty prediction columns), every utterance labelled by a person.
 */
let studio: Studio;
let file: string;
let handlers: ReturnType<typeof createHandlers>;
const MODEL = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8')) as {
  name: string;
  version: string;
  labels: string[];
};
const PREDICTION_COLUMNS = [
  'predicted_label',
  'predicted_prob',
  ...MODEL.labels.map((l) => `prob_${l}`),
  'model_name',
  'model_version',
];
let predicted: Set<number>;
let modelId: number;

async function call<T>(name: OperationName, input: object = {}): Promise<T> {
  const out = await invokeOperation(handlers, name, input);
  return operations[name].output.parse(out) as T;
}

async function runExport(request: ExportRequest): Promise<ExportSummary> {
  const { jobId } = await call<{ jobId: string }>('startExport', request);
  const status = await studio.jobs.wait(jobId);
  expect(status.error).toBeUndefined();
  expect(status.state).toBe('succeeded');
  return status.result as ExportSummary;
}

beforeAll(async () => {
  let dir: string;
  ({ studio, file, dir } = openTempStudio());
  handlers = createHandlers(studio);
  const corpus = path.join(dir, 'corpus');
  for (const speaker of ['spk_a', 'spk_b']) {
    fs.mkdirSync(path.join(corpus, speaker), { recursive: true });
    for (const clip of demoClips(speaker, 3)) fs.copyFileSync(clip, path.join(corpus, speaker, path.basename(clip)));
  }
  await runImport(studio, corpus);
  const models = await call<ModelInfo[]>('addModel', { path: DEMO_MODEL });
  modelId = models.find((m) => m.active)!.id;
  const { jobId } = await call<{ jobId: string }>('startPrediction', { filter: { speaker: 'spk_a' } });
  expect((await studio.jobs.wait(jobId)).state).toBe('succeeded');
  predicted = studio.store.models.predictedUtterances(modelId);
  const labels = studio.store.labels.list();
  for (const [i, row] of studio.store.rows().entries())
    await call('setLabel', { utteranceId: row.id, labelId: labels[i % labels.length]!.id });
}, 120_000);
afterAll(async () => {
  await studio.close();
});

/** The stored prediction of an utterance, as the columns should carry it. */
function expected(utteranceId: number) {
  const p = studio.store.models.prediction(utteranceId, modelId)!;
  return { label: p.predictedLabel, confidence: p.confidence, probabilities: p.probabilities };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6;

describe('export with the model prediction as columns', () => {
  it('predicted one speaker only (the fixture)', () => {
    const rows = studio.store.rows();
    expect(rows).toHaveLength(6);
    expect(predicted.size).toBe(3);
    for (const r of rows) expect(predicted.has(r.id)).toBe(r.speaker === 'spk_a');
  });

  it('is off by default: no prediction columns', async () => {
    const folder = path.join(tempDir(), 'plain');
    await runExport({ folder, format: 'csv' });
    const [header] = fs.readFileSync(path.join(folder, 'dataset.csv'), 'utf8').split('\n');
    for (const c of PREDICTION_COLUMNS) expect(header!.split(',')).not.toContain(c);
    const provenance = JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8'));
    expect(provenance.predictions).toBeNull();
  });

  it('CSV: label, its probability, one probability per model label, model name and version; empty where not predicted', async () => {
    const folder = path.join(tempDir(), 'csv');
    const summary = await runExport({ folder, format: 'csv', includePredictions: true });
    const text = fs.readFileSync(path.join(folder, 'dataset.csv'), 'utf8');
    const header = text.split('\n')[0]!.split(',');
    expect(header.slice(-PREDICTION_COLUMNS.length)).toEqual(PREDICTION_COLUMNS);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      const id = Number(r.utterance_id);
      if (!predicted.has(id)) {
        for (const c of PREDICTION_COLUMNS) expect(r[c], `${c} of ${id}`).toBe('');
        continue;
      }
      const p = expected(id);
      expect(r.predicted_label).toBe(p.label);
      expect(close(Number(r.predicted_prob), p.confidence)).toBe(true);
      const probs = MODEL.labels.map((l) => Number(r[`prob_${l}`]));
      probs.forEach((v, i) => expect(close(v, p.probabilities[i]!)).toBe(true));
      // The predicted label is the most probable one, and its probability is that column's.
      const best = probs.indexOf(Math.max(...probs));
      expect(MODEL.labels[best]).toBe(r.predicted_label);
      expect(Number(r.predicted_prob)).toBe(probs[best]);
      expect(Math.abs(probs.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-4);
      expect([r.model_name, r.model_version]).toEqual([MODEL.name, MODEL.version]);
    }
    expect(summary.warnings).toContain(
      `3 of 6 exported utterance(s) have no prediction from ${MODEL.name} ${MODEL.version}: ` +
        'their prediction columns are empty (run the model on them first)',
    );
    const provenance = JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8'));
    expect(provenance.predictions).toMatchObject({
      model: { name: MODEL.name, version: MODEL.version },
      labels: MODEL.labels,
      columns: PREDICTION_COLUMNS,
      rowsWithout: 3,
    });
  });

  it('JSONL: the same keys, numbers as numbers and null where not predicted', async () => {
    const folder = path.join(tempDir(), 'jsonl');
    await runExport({ folder, format: 'jsonl', includePredictions: true });
    const rows = fs
      .readFileSync(path.join(folder, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of rows) {
      const id = r.utterance_id as number;
      expect(Object.keys(r).slice(-PREDICTION_COLUMNS.length)).toEqual(PREDICTION_COLUMNS);
      if (!predicted.has(id)) {
        for (const c of PREDICTION_COLUMNS) expect(r[c]).toBeNull();
        continue;
      }
      const p = expected(id);
      expect(r.predicted_label).toBe(p.label);
      expect(typeof r.predicted_prob).toBe('number');
      expect(close(r.predicted_prob as number, p.confidence)).toBe(true);
      MODEL.labels.forEach((l, i) => expect(close(r[`prob_${l}`] as number, p.probabilities[i]!)).toBe(true));
      expect(r.model_name).toBe(MODEL.name);
      expect(r.model_version).toBe(MODEL.version);
    }
  });

  it('audiofolder: every split metadata.csv ends with the prediction columns', async () => {
    const folder = path.join(tempDir(), 'af');
    await runExport({ folder, includePredictions: true, split: { train: 1, validation: 1, test: 0 } });
    let seen = 0;
    for (const split of ['train', 'validation', 'test']) {
      const meta = path.join(folder, split, 'metadata.csv');
      if (!fs.existsSync(meta)) continue;
      const text = fs.readFileSync(meta, 'utf8');
      expect(text.split('\n')[0]!.split(',').slice(-PREDICTION_COLUMNS.length)).toEqual(PREDICTION_COLUMNS);
      for (const r of parse(text, { columns: true }) as Record<string, string>[]) {
        const id = Number(r.file_name!.slice(0, 6));
        seen++;
        if (!predicted.has(id)) expect(r.predicted_label).toBe('');
        else {
          expect(r.predicted_label).toBe(expected(id).label);
          expect(close(Number(r.predicted_prob), expected(id).confidence)).toBe(true);
          expect(r.model_version).toBe(MODEL.version);
        }
      }
    }
    expect(seen).toBe(6);
  });

  it('TextGrid has no columns: said in the warnings; a bad value is refused by the contract', async () => {
    const summary = await runExport({
      folder: path.join(tempDir(), 'tg'),
      format: 'textgrid',
      includePredictions: true,
    });
    expect(summary.warnings).toContain(
      "TextGrid has no columns: the model's predictions are not written (CSV, JSONL, audiofolder and Label Studio carry them)",
    );
    await expect(
      invokeOperation(handlers, 'startExport', { folder: tempDir(), includePredictions: 'yes' }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('wavfusion export --include-predictions writes the columns; without an active model it is refused', async () => {
    // The CLI opens the project file itself: the studio here has committed everything already.
    const out = path.join(tempDir(), 'cli');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'tests/helpers/serve-entry.ts', 'export', ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
    const ok = run(['--project', file, '--out', out, '--format', 'csv', '--include-predictions']);
    expect(ok.status, ok.stderr).toBe(0);
    const rows = parse(fs.readFileSync(path.join(out, 'dataset.csv')), { columns: true }) as Record<string, string>[];
    const withPrediction = rows.filter((r) => predicted.has(Number(r.utterance_id)));
    expect(withPrediction).toHaveLength(3);
    for (const r of withPrediction) expect(r.predicted_label).toBe(expected(Number(r.utterance_id)).label);

    // Another project with no model: refused before anything is written.
    const { studio: bare, file: bareFile } = openTempStudio();
    await runImport(bare, path.dirname(demoClips('spk_a', 1)[0]!));
    await bare.close();
    const refusedOut = path.join(tempDir(), 'refused');
    const refused = run(['--project', bareFile, '--out', refusedOut, '--include-predictions']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('No active model: add or choose one (Run model…) to export its predictions');
    expect(fs.existsSync(refusedOut)).toBe(false);
  }, 60_000);
});
