import type { Migration } from './types';

/**
 * History entries made in one step (a bulk accept of predictions, and the undo or redo of it) share a
 * `batch` number, so that one Undo reverts all of them (NULL: a single edit, as before). Models get a
 * name the team chose (`display_name`, NULL: the bundle's own), kept apart from the bundle's name,
 * which identifies the model version together with its version and checksum.
 */
export const migration005: Migration = {
  version: 5,
  name: 'history batches, model display names',
  up(db) {
    db.exec(`
      ALTER TABLE history ADD COLUMN batch INTEGER;
      CREATE INDEX history_by_batch ON history(batch) WHERE batch IS NOT NULL;
      ALTER TABLE models ADD COLUMN display_name TEXT;
    `);
  },
};
