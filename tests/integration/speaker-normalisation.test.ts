import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import type { PredictionReport } from '../../src/shared/contract';
import { DEMO_CORPUS, DEMO_MODEL, openTempStudio, runImport } from '../helpers/fixtures';

/**
 * A speaker-normalised model (model.json `speaker_normalisation`) in a project: each utterance is
 * normalised by the statistics of all of its speaker's utterances in the project, whatever the run
 * covers; utterances whose speaker has too few utterances use the model's training-set statistics.
 */
let studio: Studio;
let handlers: ReturnType<typeof createHandlers>;
const manifest = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8')) as {
  speaker_normalisation?: { min_utterances: number };
};

beforeAll(async () => {
  ({ studio } = openTempStudio());
  handlers = createHandlers(studio);
  await runImport(studio, DEMO_CORPUS);
  await invokeOperation(handlers, 'addModel', { path: DEMO_MODEL });
});
afterAll(async () => {
  await studio.close();
});

async function runModel(input: object = {}): Promise<{ report: PredictionReport; messages: string[] }> {
  const messages: string[] = [];
  const off = studio.subscribe((event, payload) => {
    if (event === 'jobUpdated') messages.push((payload as { message?: string }).message ?? '');
  });
  const { jobId } = (await invokeOperation(handlers, 'startPrediction', input)) as { jobId: string };
  const status = await studio.jobs.wait(jobId);
  off();
  expect(status.error).toBeUndefined();
  return { report: status.result as PredictionReport, messages };
}

const probabilities = (id: number) => studio.predictions.prediction(id)!.scores.map((s) => s.probability);

describe('a speaker-normalised model in a project', () => {
  it('is the demo bundle', () => {
    expect(manifest.speaker_normalisation?.min_utterances).toBeGreaterThan(1);
  });

  it('measures each speaker first, and a run over part of a speaker gives what a run over all gave', async () => {
    const { report, messages } = await runModel();
    expect(report.predicted).toBe(36);
    expect(messages.some((m) => /Measuring each speaker's voice: 36 of 36 utterances/.test(m))).toBe(true);
    const rows = studio.store.rows({ speaker: 'spk_b' });
    const before = new Map(rows.map((r) => [r.id, probabilities(r.id)]));
    // recompute only the first two of spk_b's nine: their speaker statistics still come from all nine
    const part = rows.slice(0, 2);
    for (const r of part) {
      const again = await runModel({ recompute: true, filter: { speaker: 'spk_b', search: r.transcript } });
      expect(again.report.predicted).toBeGreaterThanOrEqual(1);
      const p = probabilities(r.id);
      before.get(r.id)!.forEach((v, k) => expect(p[k]).toBeCloseTo(v, 4)); // batch-mates change float rounding only
    }
  });

  it('an utterance moved to a speaker of its own falls back to the training set, and Undo brings it back', async () => {
    const row = studio.store.rows({ speaker: 'spk_c' })[0]!;
    const withSpeaker = probabilities(row.id);
    await invokeOperation(handlers, 'setUtteranceText', { utteranceId: row.id, speaker: 'someone new' });
    await runModel({ recompute: true, filter: { speaker: 'someone new' } });
    const alone = probabilities(row.id);
    expect(Math.max(...alone.map((v, k) => Math.abs(v - withSpeaker[k]!)))).toBeGreaterThan(1e-3);
    await invokeOperation(handlers, 'undo', {});
    await runModel({ recompute: true, filter: { speaker: 'spk_c' } });
    probabilities(row.id).forEach((v, k) => expect(v).toBeCloseTo(withSpeaker[k]!, 4));
  });
});
