import type { Migration } from './types';

/**
 * Assignment (several annotators): each annotator's share of the utterances (more than 0, at most 1;
 * 1, every existing annotator's, is all of them, as before) and the project's calibration share (the
 * part of the utterances every annotator labels; 0, none). See src/main/agreement/assignment.ts.
 */
export const migration012: Migration = {
  version: 12,
  name: 'annotator shares',
  up(db) {
    db.exec(`
      ALTER TABLE annotators ADD COLUMN share REAL NOT NULL DEFAULT 1 CHECK (share > 0 AND share <= 1);
      ALTER TABLE labelling_settings ADD COLUMN calibration_share REAL NOT NULL DEFAULT 0
        CHECK (calibration_share >= 0 AND calibration_share <= 1);
    `);
  },
};
