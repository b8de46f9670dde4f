import type { Migration } from './types';

/**
 * The "unsure / skip" flag, per annotation (so per annotator, like the label): `annotations.unsure`
 * (0 for every existing row). Transcript and speaker edits in place: the segment history gains the op
 * `text` (its snapshots already hold each segment's transcript and speaker), so such an edit is one
 * Undo like any segment edit. SQLite cannot change a CHECK constraint, so `segment_history` is rebuilt
 * with every row, index and append-only trigger as they were.
 */
export const migration009: Migration = {
  version: 9,
  name: 'unsure flag, transcript and speaker edits',
  up(db) {
    db.exec(`
      ALTER TABLE annotations ADD COLUMN unsure INTEGER NOT NULL DEFAULT 0 CHECK (unsure IN (0, 1));

      CREATE TABLE segment_history_v9 (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        annotator TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('create', 'resize', 'split', 'merge', 'delete', 'text', 'undo', 'redo')),
        target_seq INTEGER REFERENCES segment_history_v9(seq),
        label_seq INTEGER NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL
      ) STRICT;
      INSERT INTO segment_history_v9 (seq, at, annotator, op, target_seq, label_seq, before, after)
        SELECT seq, at, annotator, op, target_seq, label_seq, before, after FROM segment_history ORDER BY seq;
      -- Dropping a table fires no trigger (its append-only triggers go with it); its only reference is itself.
      DROP TABLE segment_history;
      -- The rename also renames the self-reference of target_seq.
      ALTER TABLE segment_history_v9 RENAME TO segment_history;
      CREATE INDEX segment_history_by_annotator ON segment_history(annotator, seq);
      CREATE INDEX segment_history_by_target ON segment_history(target_seq);
      CREATE TRIGGER segment_history_is_append_only_update BEFORE UPDATE ON segment_history
        BEGIN SELECT RAISE(ABORT, 'segment history is append-only'); END;
      CREATE TRIGGER segment_history_is_append_only_delete BEFORE DELETE ON segment_history
        BEGIN SELECT RAISE(ABORT, 'segment history is append-only'); END;
    `);
  },
};
