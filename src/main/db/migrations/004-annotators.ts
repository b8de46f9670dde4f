import type { Migration } from './types';

/**
 * Several annotators per utterance: the roster (with a role), the project's labelling settings (labels
 * needed per utterance, blind mode, consensus rule) and adjudications (an adjudicator's final label
 * with a reason; append-only, the newest per utterance counts).
 */
export const migration004: Migration = {
  version: 4,
  name: 'annotators, labelling settings, adjudications',
  up(db) {
    db.exec(`
      CREATE TABLE annotators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL DEFAULT 'annotator' CHECK (role IN ('annotator', 'adjudicator')),
        added_at TEXT NOT NULL
      ) STRICT;

      -- One row (id = 1).
      CREATE TABLE labelling_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        labels_per_utterance INTEGER NOT NULL DEFAULT 1 CHECK (labels_per_utterance BETWEEN 1 AND 100),
        -- hide other annotators' labels until one has labelled the utterance
        blind INTEGER NOT NULL DEFAULT 0 CHECK (blind IN (0, 1)),
        -- in blind mode, hide the model's prediction too
        blind_model INTEGER NOT NULL DEFAULT 1 CHECK (blind_model IN (0, 1)),
        consensus_rule TEXT NOT NULL DEFAULT 'majority' CHECK (consensus_rule IN ('majority', 'unanimous'))
      ) STRICT;
      INSERT INTO labelling_settings (id) VALUES (1);

      CREATE TABLE adjudications (
        id INTEGER PRIMARY KEY,
        utterance_id INTEGER NOT NULL REFERENCES utterances(id),
        label_id INTEGER NOT NULL REFERENCES labels(id),
        adjudicator TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX adjudications_by_utterance ON adjudications(utterance_id, id);
      CREATE TRIGGER adjudications_are_append_only_update BEFORE UPDATE ON adjudications
        BEGIN SELECT RAISE(ABORT, 'adjudications are append-only'); END;
      CREATE TRIGGER adjudications_are_append_only_delete BEFORE DELETE ON adjudications
        BEGIN SELECT RAISE(ABORT, 'adjudications are append-only'); END;
    `);
    // Everyone who has labelled so far joins the roster as an annotator (names differing only in case
    // were two annotators before; the first one seen keeps the roster entry, both keep their labels).
    db.prepare(
      `INSERT OR IGNORE INTO annotators (name, role, added_at)
       SELECT annotator, 'annotator', MIN(updated_at) FROM annotations WHERE origin = 'human'
       GROUP BY annotator ORDER BY MIN(updated_at), annotator`,
    ).run();
  },
};
