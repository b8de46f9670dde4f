import type { Migration } from './types';

/**
 * Segment editing (VAD, create, resize, split, merge, delete). An utterance is never deleted, since
 * the label history and predictions refer to it: a removed one gets `removed_at` and drops out of
 * every list. `needs_review` flags a segment whose labels a split or a conflicting merge carried
 * over. `segment_history` is the append-only record of every segment edit and its undo/redo: `before`
 * and `after` are JSON snapshots of the segments touched and all their annotations (every annotator),
 * and `label_seq` (the newest label-history seq when it was written) orders it against label edits, so
 * that one Undo walks both histories newest first.
 */
export const migration006: Migration = {
  version: 6,
  name: 'segment edits',
  up(db) {
    db.exec(`
      ALTER TABLE utterances ADD COLUMN removed_at TEXT;
      ALTER TABLE utterances ADD COLUMN needs_review INTEGER NOT NULL DEFAULT 0 CHECK (needs_review IN (0, 1));
      CREATE INDEX utterances_live_by_recording ON utterances(recording_id, start_s) WHERE removed_at IS NULL;

      CREATE TABLE segment_history (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        annotator TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('create', 'resize', 'split', 'merge', 'delete', 'undo', 'redo')),
        target_seq INTEGER REFERENCES segment_history(seq),
        label_seq INTEGER NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL
      ) STRICT;
      CREATE INDEX segment_history_by_annotator ON segment_history(annotator, seq);
      CREATE INDEX segment_history_by_target ON segment_history(target_seq);
      CREATE TRIGGER segment_history_is_append_only_update BEFORE UPDATE ON segment_history
        BEGIN SELECT RAISE(ABORT, 'segment history is append-only'); END;
      CREATE TRIGGER segment_history_is_append_only_delete BEFORE DELETE ON segment_history
        BEGIN SELECT RAISE(ABORT, 'segment history is append-only'); END;
    `);
  },
};
