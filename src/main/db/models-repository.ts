import type { Db } from './open-database';

export interface ModelRecord {
  id: number;
  location: string;
  name: string;
  version: string;
  checksum: string;
  labels: string[];
  /** The name the team gave it (null: the bundle's own). */
  displayName: string | null;
  addedAt: string;
}

/** One model's prediction for an utterance, as a report reads them. */
export interface PredictionBrief {
  utteranceId: number;
  predictedLabel: string;
  confidence: number;
}

export interface StoredPrediction {
  utteranceId: number;
  modelId: number;
  probabilities: number[];
  predictedLabel: string;
  confidence: number;
  entropy: number;
  textGate: number;
  textUsed: boolean;
  windows: number;
  embedding: Float32Array;
  createdAt: string;
  /** Graph that produced it: model.onnx (fp32) or model.int8.onnx; default fp32. */
  precision?: 'fp32' | 'int8';
}

/** One model's prediction for an utterance with every label's probability, as an export writes it. */
export interface PredictionScores {
  predictedLabel: string;
  confidence: number;
  /** In the model's label order (`ModelRecord.labels`). */
  probabilities: number[];
}

interface PredictionRecord extends Omit<StoredPrediction, 'probabilities' | 'textUsed' | 'embedding'> {
  probabilities: string;
  textUsed: number;
  embedding: Buffer;
}

/** Model bundles the project has used, and their predictions per utterance. */
export class ModelsRepository {
  constructor(private readonly db: Db) {}

  /** The id of this exact model version, registering it the first time. */
  register(location: string, name: string, version: string, checksum: string, labels: string[]): number {
    const existing = this.db
      .prepare<[string, string, string], { id: number }>(
        'SELECT id FROM models WHERE name = ? AND version = ? AND checksum = ?',
      )
      .get(name, version, checksum);
    if (existing) {
      this.db.prepare('UPDATE models SET location = ? WHERE id = ?').run(location, existing.id);
      return existing.id;
    }
    const info = this.db
      .prepare('INSERT INTO models (location, name, version, checksum, labels, added_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(location, name, version, checksum, JSON.stringify(labels), new Date().toISOString());
    return Number(info.lastInsertRowid);
  }

  list(): ModelRecord[] {
    return this.db
      .prepare<[], Omit<ModelRecord, 'labels'> & { labels: string }>(
        `SELECT id, location, name, version, checksum, labels, display_name AS displayName, added_at AS addedAt
         FROM models ORDER BY id`,
      )
      .all()
      .map((m) => ({ ...m, labels: JSON.parse(m.labels) as string[] }));
  }

  byId(id: number): ModelRecord | undefined {
    return this.list().find((m) => m.id === id);
  }

  /** The name shown for a model (null or blank: the bundle's own name again). */
  rename(id: number, displayName: string | null): void {
    this.db.prepare('UPDATE models SET display_name = ? WHERE id = ?').run(displayName?.trim() || null, id);
  }

  /** Removes a model and every prediction (and embedding) of it; returns how many predictions went. */
  remove(id: number): number {
    this.db.prepare('DELETE FROM prediction_embeddings WHERE model_id = ?').run(id);
    const { changes } = this.db.prepare('DELETE FROM predictions WHERE model_id = ?').run(id);
    this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
    return changes;
  }

  /** Every prediction of a model (label and confidence only). */
  predictionsOf(modelId: number): PredictionBrief[] {
    return this.db
      .prepare<[number], PredictionBrief>(
        `SELECT utterance_id AS utteranceId, predicted_label AS predictedLabel, confidence
         FROM predictions WHERE model_id = ? ORDER BY utterance_id`,
      )
      .all(modelId);
  }

  putPrediction(p: StoredPrediction): void {
    this.db
      .prepare(
        `INSERT INTO predictions (utterance_id, model_id, probabilities, predicted_label, confidence, entropy, text_gate,
           text_used, windows, created_at, precision)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (utterance_id, model_id) DO UPDATE SET probabilities = excluded.probabilities,
           predicted_label = excluded.predicted_label, confidence = excluded.confidence, entropy = excluded.entropy,
           text_gate = excluded.text_gate, text_used = excluded.text_used, windows = excluded.windows,
           created_at = excluded.created_at, precision = excluded.precision`,
      )
      .run(
        p.utteranceId,
        p.modelId,
        JSON.stringify(p.probabilities),
        p.predictedLabel,
        p.confidence,
        p.entropy,
        p.textGate,
        p.textUsed ? 1 : 0,
        p.windows,
        p.createdAt,
        p.precision ?? 'fp32',
      );
    this.db
      .prepare(
        `INSERT INTO prediction_embeddings (utterance_id, model_id, embedding) VALUES (?, ?, ?)
         ON CONFLICT (utterance_id, model_id) DO UPDATE SET embedding = excluded.embedding`,
      )
      .run(p.utteranceId, p.modelId, Buffer.from(p.embedding.buffer, p.embedding.byteOffset, p.embedding.byteLength));
  }

  prediction(utteranceId: number, modelId: number): StoredPrediction | undefined {
    const r = this.db
      .prepare<[number, number], PredictionRecord>(
        `SELECT utterance_id AS utteranceId, model_id AS modelId, probabilities, predicted_label AS predictedLabel,
                confidence, entropy, text_gate AS textGate, text_used AS textUsed, windows, e.embedding,
                created_at AS createdAt, precision
         FROM predictions JOIN prediction_embeddings e USING (utterance_id, model_id)
         WHERE utterance_id = ? AND model_id = ?`,
      )
      .get(utteranceId, modelId);
    if (!r) return undefined;
    const copy = Buffer.from(r.embedding);
    return {
      ...r,
      probabilities: JSON.parse(r.probabilities) as number[],
      textUsed: r.textUsed === 1,
      embedding: new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4),
    };
  }

  /** Every prediction of a model with its probabilities (in the model's label order), by utterance. */
  scoresOf(modelId: number): Map<number, PredictionScores> {
    const rows = this.db
      .prepare<[number], { utteranceId: number; probabilities: string; predictedLabel: string; confidence: number }>(
        `SELECT utterance_id AS utteranceId, probabilities, predicted_label AS predictedLabel, confidence
         FROM predictions WHERE model_id = ?`,
      )
      .all(modelId);
    return new Map(
      rows.map((r) => [
        r.utteranceId,
        {
          predictedLabel: r.predictedLabel,
          confidence: r.confidence,
          probabilities: JSON.parse(r.probabilities) as number[],
        },
      ]),
    );
  }

  predictedUtterances(modelId: number): Set<number> {
    return new Set(
      this.db
        .prepare<[number], { id: number }>('SELECT utterance_id AS id FROM predictions WHERE model_id = ?')
        .all(modelId)
        .map((r) => r.id),
    );
  }
}
