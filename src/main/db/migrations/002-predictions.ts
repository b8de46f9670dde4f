import type { Migration } from './types';

/** Model bundles known to the project and their predictions, per utterance and model version. */
export const migration002: Migration = {
  version: 2,
  name: 'models and predictions',
  up(db) {
    db.exec(`
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        -- 'builtin:<folder>' for bundles shipped in resources/models, else an absolute folder path
        location TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        -- SHA-256 of model.onnx: a retrained bundle with the same name/version is a new model version
        checksum TEXT NOT NULL,
        labels TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (name, version, checksum)
      ) STRICT;

      CREATE TABLE predictions (
        utterance_id INTEGER NOT NULL REFERENCES utterances(id),
        model_id INTEGER NOT NULL REFERENCES models(id),
        -- probabilities in the model's label order (JSON array)
        probabilities TEXT NOT NULL,
        predicted_label TEXT NOT NULL,
        confidence REAL NOT NULL,
        entropy REAL NOT NULL,
        text_gate REAL NOT NULL,
        text_used INTEGER NOT NULL,
        windows INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (utterance_id, model_id)
      ) STRICT;
      CREATE INDEX predictions_by_model ON predictions(model_id, entropy);
    `);
  },
};
