import type { Migration } from './types';

/**
 * Per-label guidelines: a definition (what the label means in this project) and example utterances
 * annotators can play from the label bar, in order. An example goes with its label; a removed segment's example is not listed.
 */
export const migration008: Migration = {
  version: 8,
  name: 'label guidelines',
  up(db) {
    db.exec(`
      ALTER TABLE labels ADD COLUMN definition TEXT NOT NULL DEFAULT '';
      CREATE TABLE label_examples (
        label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
        utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        PRIMARY KEY (label_id, utterance_id)
      ) STRICT;
      CREATE INDEX label_examples_utterance ON label_examples(utterance_id);
    `);
  },
};
