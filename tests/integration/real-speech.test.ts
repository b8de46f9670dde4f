/**
 * The bundled demo model hears emotion in real speech: the studio's own engine (decode of Opus,
 * libsamplerate, onnxruntime-node) on the RAVDESS speakers that the bundle's model.json says were held
 * out of training, without transcripts. Needs ../shared/corpora (non-commercial corpora, never in the
 * repository); where it is absent the test is reported as skipped with that reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { InferenceEngine, type PredictRequest } from '../../src/main/inference/engine';
import { DEMO_MODEL, REPO_ROOT } from '../helpers/fixtures';

const CORPORA = process.env.WAVFUSION_CORPORA ?? path.resolve(REPO_ROOT, '..', 'shared', 'corpora');
const RAVDESS = path.join(CORPORA, 'ravdess-speech');
const present = fs.existsSync(path.join(RAVDESS, 'manifest.csv'));
const TO_4: Record<string, string | undefined> = {
  neutral: 'neutral',
  calm: 'neutral',
  happy: 'happy',
  angry: 'angry',
  sad: 'sad',
};

interface Row {
  path: string;
  label: string;
  speaker: string;
}

describe.skipIf(!present)(`real speech (RAVDESS held-out speakers; needs ${RAVDESS})`, () => {
  it('predicts from the voice alone, above chance and not one class for everything', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8'));
    const heldOut: string[] = manifest.training.data.corpora['ravdess-speech'].test.speakers;
    expect(heldOut.length).toBeGreaterThan(0);
    const rows = (parse(fs.readFileSync(path.join(RAVDESS, 'manifest.csv')), { columns: true }) as Row[]).filter(
      (r) => heldOut.includes(r.speaker) && TO_4[r.label],
    );
    const labels: string[] = manifest.labels;
    const requests: PredictRequest[] = rows.map((r) => ({
      key: r.path,
      path: path.join(RAVDESS, r.path),
      start: null,
      end: null,
      text: null,
      speaker: r.speaker, // a speaker-normalised model: each actor by their own clips, as the reference
    }));
    const engine = await InferenceEngine.load(DEMO_MODEL, { device: 'cpu' });
    const predicted = new Map<string, string>();
    try {
      for await (const chunk of engine.predict(requests))
        for (const r of chunk) {
          if (!r.ok) throw new Error(`${r.key}: ${r.error}`);
          expect(r.textUsed).toBe(false);
          predicted.set(r.key, labels[r.probabilities.indexOf(Math.max(...r.probabilities))]!);
        }
    } finally {
      await engine.close();
    }
    const recall = labels.map((l) => {
      const of = rows.filter((r) => TO_4[r.label] === l);
      return of.filter((r) => predicted.get(r.path) === l).length / of.length;
    });
    const unweighted = recall.reduce((a, b) => a + b, 0) / labels.length;
    expect(new Set(predicted.values()).size, `predicted classes: ${[...new Set(predicted.values())]}`).toBe(4);
    // chance is 0.25; model.json records the PyTorch reference's number on the same clips
    expect(unweighted).toBeGreaterThan(0.4);
    const reference = manifest.training.metrics.test_report.without_text['ravdess-speech'].UA as number;
    expect(Math.abs(unweighted - reference), `studio UA ${unweighted} vs PyTorch ${reference}`).toBeLessThan(0.05);
  }, 300_000);
});
