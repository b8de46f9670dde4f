import { randomUUID } from 'node:crypto';
import type { Migration } from './types';

/**
 * Working apart, merging together (issue 11). Every project gets an identity, `project_meta`
 * `project_id` (a random UUID; a hand-out copy gets its own and records its origin's under
 * `origin_project_id`). A merge of a copy is recorded in `merges` (who, when, from which copy, its
 * report, and `undone_at` once reverted) with what it changed in `merge_changes` (`kind` annotation:
 * `target` the annotation's key as JSON, `before`/`after` its states; `utterance`: an utterance it
 * added; `label`/`annotator`: a label or roster entry it added), so that one `undoMerge` reverts it.
 * History entries a merge brought from the copy carry its id in `history.merge_id`: they stay in the
 * append-only audit trail, but a person's Undo does not walk into them (undoMerge reverts a merge).
 */
export const migration011: Migration = {
  version: 11,
  name: 'project identity, merges of hand-out copies',
  up(db) {
    db.exec(`
      CREATE TABLE merges (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        annotator TEXT NOT NULL,
        copy_project_id TEXT NOT NULL,
        copy_path TEXT NOT NULL,
        report TEXT NOT NULL,
        undone_at TEXT
      ) STRICT;

      CREATE TABLE merge_changes (
        id INTEGER PRIMARY KEY,
        merge_id INTEGER NOT NULL REFERENCES merges(id),
        kind TEXT NOT NULL CHECK (kind IN ('annotation', 'utterance', 'label', 'annotator')),
        target TEXT NOT NULL,
        before TEXT,
        after TEXT
      ) STRICT;
      CREATE INDEX merge_changes_by_merge ON merge_changes(merge_id, id);

      ALTER TABLE history ADD COLUMN merge_id INTEGER REFERENCES merges(id);
      CREATE INDEX history_by_merge ON history(merge_id) WHERE merge_id IS NOT NULL;
    `);
    db.prepare(`INSERT OR IGNORE INTO project_meta (key, value) VALUES ('project_id', ?)`).run(randomUUID());
  },
};
