import type { Migration } from './types';

/**
 * Embeddings move out of `predictions` into their own table: list queries join predictions for every
 * row, and kilobyte-sized blobs inline made a 10,000-row list about 1.5× slower (docs/benchmarks.md).
 */
export const migration003: Migration = {
  version: 3,
  name: 'prediction embeddings in their own table',
  up(db) {
    db.exec(`
      CREATE TABLE prediction_embeddings (
        utterance_id INTEGER NOT NULL,
        model_id INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        PRIMARY KEY (utterance_id, model_id),
        FOREIGN KEY (utterance_id, model_id) REFERENCES predictions(utterance_id, model_id)
      ) STRICT;
      INSERT INTO prediction_embeddings (utterance_id, model_id, embedding)
        SELECT utterance_id, model_id, embedding FROM predictions;
      ALTER TABLE predictions DROP COLUMN embedding;
    `);
  },
};
