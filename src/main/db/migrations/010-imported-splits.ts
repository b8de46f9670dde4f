import type { Migration } from './types';

/**
 * The split an utterance came with from its corpus (MELD's train/dev/test CSVs, an audiofolder's
 * split folders), so that an export can keep it instead of re-splitting. Null: none (the studio's
 * own seeded split decides). Only the three split names the exports write are stored.
 */
export const migration010: Migration = {
  version: 10,
  name: 'imported splits',
  up(db) {
    db.exec(`
      ALTER TABLE utterances ADD COLUMN split TEXT
        CHECK (split IS NULL OR split IN ('train', 'validation', 'test'));
    `);
  },
};
