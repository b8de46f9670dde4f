import type { Migration } from './types';

/** Recordings, utterances, the label set, annotations and the append-only history. */
export const migration001: Migration = {
  version: 1,
  name: 'initial schema',
  up(db) {
    db.exec(`
      CREATE TABLE project_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE recordings (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        file_name TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        checksum TEXT NOT NULL,
        format TEXT NOT NULL,
        duration_s REAL NOT NULL CHECK (duration_s > 0),
        sample_rate INTEGER NOT NULL CHECK (sample_rate > 0),
        channels INTEGER NOT NULL CHECK (channels > 0),
        peaks BLOB NOT NULL,
        peaks_per_second INTEGER NOT NULL,
        imported_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX recordings_by_checksum ON recordings(checksum);

      CREATE TABLE utterances (
        id INTEGER PRIMARY KEY,
        recording_id INTEGER NOT NULL REFERENCES recordings(id),
        start_s REAL NOT NULL CHECK (start_s >= 0),
        end_s REAL NOT NULL,
        speaker TEXT,
        transcript TEXT NOT NULL DEFAULT '',
        CHECK (end_s > start_s)
      ) STRICT;
      CREATE INDEX utterances_by_recording ON utterances(recording_id, start_s);
      CREATE INDEX utterances_by_speaker ON utterances(speaker);

      CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        color TEXT NOT NULL,
        hotkey TEXT UNIQUE,
        position INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        utterance_id INTEGER NOT NULL REFERENCES utterances(id),
        origin TEXT NOT NULL CHECK (origin IN ('human', 'import')),
        annotator TEXT NOT NULL,
        label_id INTEGER REFERENCES labels(id),
        valence REAL CHECK (valence BETWEEN 1 AND 5),
        arousal REAL CHECK (arousal BETWEEN 1 AND 5),
        dominance REAL CHECK (dominance BETWEEN 1 AND 5),
        note TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        UNIQUE (utterance_id, origin, annotator)
      ) STRICT;
      CREATE INDEX annotations_by_label ON annotations(label_id);

      -- Every change a person makes, in order; undo/redo and the audit trail read it.
      -- before/after hold the annotation state as JSON (NULL: no annotation).
      CREATE TABLE history (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        annotator TEXT NOT NULL,
        utterance_id INTEGER NOT NULL REFERENCES utterances(id),
        op TEXT NOT NULL CHECK (op IN ('edit', 'undo', 'redo')),
        target_seq INTEGER REFERENCES history(seq),
        before TEXT,
        after TEXT
      ) STRICT;
      CREATE INDEX history_by_annotator ON history(annotator, seq);
      CREATE INDEX history_by_target ON history(target_seq);
      CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
        BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
      CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
        BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
    `);
    const insertLabel = db.prepare('INSERT INTO labels (name, color, hotkey, position) VALUES (?, ?, ?, ?)');
    DEFAULT_LABELS.forEach((l, i) => insertLabel.run(l.name, l.color, String(i + 1), i));
  },
};

/** IEMOCAP's four-class setup, the default label set of a new project. */
export const DEFAULT_LABELS = [
  { name: 'neutral', color: '#8a94a6' },
  { name: 'happy', color: '#e0a100' },
  { name: 'angry', color: '#d64545' },
  { name: 'sad', color: '#3d7dd8' },
] as const;
