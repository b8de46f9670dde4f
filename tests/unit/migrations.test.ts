import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migration001 } from '../../src/main/db/migrations/001-initial';
import { migration002 } from '../../src/main/db/migrations/002-predictions';
import { migration003 } from '../../src/main/db/migrations/003-prediction-embeddings';
import { migration004 } from '../../src/main/db/migrations/004-annotators';
import { migration005 } from '../../src/main/db/migrations/005-history-batches';
import { migration006 } from '../../src/main/db/migrations/006-segment-edits';
import { migration007 } from '../../src/main/db/migrations/007-prediction-precision';
import { migration008 } from '../../src/main/db/migrations/008-label-guidelines';
import { LATEST_SCHEMA_VERSION, migrations } from '../../src/main/db/migrations';
import { APPLICATION_ID, backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

describe('project database', () => {
  it('creates a new project at the latest schema with WAL, foreign keys and full sync', () => {
    const file = path.join(tempDir(), 'p.sqlite');
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  it('numbers migrations consecutively from 1', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('migration 001 creates the schema and the IEMOCAP default label set with hotkeys 1-4', () => {
    const db = new Database(':memory:');
    db.transaction(() => migration001.up(db))();
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['annotations', 'history', 'labels', 'project_meta', 'recordings', 'utterances']);
    expect(db.prepare('SELECT name, hotkey FROM labels ORDER BY position').all()).toEqual([
      { name: 'neutral', hotkey: '1' },
      { name: 'happy', hotkey: '2' },
      { name: 'angry', hotkey: '3' },
      { name: 'sad', hotkey: '4' },
    ]);
    db.close();
  });

  it('migration 001 makes the history append-only', () => {
    const file = path.join(tempDir(), 'p.sqlite');
    const db = openDatabase(file);
    db.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 1, 16000, 1, x'', 100, 'now')`);
    db.exec(`INSERT INTO utterances (recording_id, start_s, end_s) VALUES (1, 0, 1)`);
    db.exec(`INSERT INTO history (at, annotator, utterance_id, op) VALUES ('now', 'a', 1, 'edit')`);
    expect(() => db.exec(`UPDATE history SET annotator = 'b'`)).toThrow(/append-only/);
    expect(() => db.exec(`DELETE FROM history`)).toThrow(/append-only/);
    db.close();
  });

  it('refuses a project written by a newer app, with a clear message, and leaves the file untouched', () => {
    const file = path.join(tempDir(), 'future.sqlite');
    const raw = new Database(file);
    raw.exec('CREATE TABLE future (x)');
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(/newer version of WavFusion Studio.*Update the app/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('names a file that is not a database instead of crashing', () => {
    const file = path.join(tempDir(), 'notes.sqlite');
    fs.writeFileSync(file, 'these are my notes, not a database '.repeat(200));
    expect(() => openDatabase(file)).toThrow(/not a WavFusion Studio project/);
  });

  it('migration 002 adds models and predictions (cascading nothing, keyed by utterance and model)', () => {
    const file = path.join(tempDir(), 'v1.sqlite');
    const v1 = openDatabase(file, { migrations: [migration001] });
    expect(v1.pragma('user_version', { simple: true })).toBe(1);
    v1.close();
    const db = openDatabase(file, { migrations: [migration001, migration002] });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const columns = (table: string) =>
      (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    expect(columns('models')).toEqual(['id', 'location', 'name', 'version', 'checksum', 'labels', 'added_at']);
    expect(columns('predictions')).toContain('embedding');
    expect(() =>
      db.prepare(`INSERT INTO predictions VALUES (1, 1, '[]', 'x', 1, 0, 0, 0, 1, x'', 'now')`).run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('migration 003 moves embeddings out of predictions, keeping every one', () => {
    const file = path.join(tempDir(), 'v2.sqlite');
    const v2 = openDatabase(file, { migrations: [migration001, migration002] });
    v2.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 1, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s) VALUES (1, 0, 1);
             INSERT INTO models (location, name, version, checksum, labels, added_at) VALUES ('/m', 'm', '1', 'c', '[]', 'now');
             INSERT INTO predictions VALUES (1, 1, '[0.5,0.5]', 'happy', 0.5, 1, 0.2, 1, 1, x'0000803f', 'now');`);
    v2.close();
    const db = openDatabase(file, { migrations: [migration001, migration002, migration003] });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect((db.prepare('PRAGMA table_info(predictions)').all() as { name: string }[]).map((c) => c.name)).not.toContain(
      'embedding',
    );
    expect(db.prepare('SELECT utterance_id, model_id, hex(embedding) AS e FROM prediction_embeddings').all()).toEqual([
      { utterance_id: 1, model_id: 1, e: '0000803F' },
    ]);
    expect(db.prepare('SELECT predicted_label FROM predictions').get()).toEqual({ predicted_label: 'happy' });
    db.close();
  });

  it('migration 004 adds the roster (everyone who labelled), labelling settings and append-only adjudications', () => {
    const file = path.join(tempDir(), 'v3.sqlite');
    const v3 = openDatabase(file, { migrations: [migration001, migration002, migration003] });
    v3.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 1, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s) VALUES (1, 0, 1);
             INSERT INTO annotations (utterance_id, origin, annotator, label_id, note, updated_at) VALUES
               (1, 'human', 'bo', 1, '', '2024-01-02'), (1, 'human', 'al', 2, '', '2024-01-01'),
               (1, 'human', 'AL', 2, '', '2024-01-03'), (1, 'import', 'm.csv', 3, '', '2024-01-01');`);
    v3.close();
    const db = openDatabase(file, { migrations: [migration001, migration002, migration003, migration004] });
    expect(db.pragma('user_version', { simple: true })).toBe(4);
    // names differing only in case: the first seen keeps the entry; the manifest is no annotator
    expect(db.prepare('SELECT name, role, added_at FROM annotators ORDER BY id').all()).toEqual([
      { name: 'al', role: 'annotator', added_at: '2024-01-01' },
      { name: 'bo', role: 'annotator', added_at: '2024-01-02' },
    ]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM annotations').get()).toEqual({ n: 4 });
    expect(db.prepare('SELECT * FROM labelling_settings').all()).toEqual([
      { id: 1, labels_per_utterance: 1, blind: 0, blind_model: 1, consensus_rule: 'majority' },
    ]);
    expect(() => db.exec(`INSERT INTO labelling_settings (id) VALUES (2)`)).toThrow(/CHECK/);
    expect(() => db.exec(`UPDATE labelling_settings SET consensus_rule = 'mode'`)).toThrow(/CHECK/);
    expect(() => db.exec(`INSERT INTO annotators (name, added_at) VALUES ('Bo', 'now')`)).toThrow(/UNIQUE/);
    expect(() => db.exec(`INSERT INTO annotators (name, role, added_at) VALUES ('cy', 'boss', 'now')`)).toThrow(
      /CHECK/,
    );
    db.exec(
      `INSERT INTO adjudications (utterance_id, label_id, adjudicator, reason, at) VALUES (1, 2, 'cy', 'tone', 'now')`,
    );
    expect(() => db.exec(`UPDATE adjudications SET label_id = 1`)).toThrow(/append-only/);
    expect(() => db.exec(`DELETE FROM adjudications`)).toThrow(/append-only/);
    expect(() =>
      db.exec(
        `INSERT INTO adjudications (utterance_id, label_id, adjudicator, reason, at) VALUES (9, 2, 'cy', '', 'now')`,
      ),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('migration 005 adds history batches (history stays append-only) and model display names', () => {
    const file = path.join(tempDir(), 'v4.sqlite');
    const v4 = openDatabase(file, { migrations: [migration001, migration002, migration003, migration004] });
    v4.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 1, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s) VALUES (1, 0, 1);
             INSERT INTO history (at, annotator, utterance_id, op, before, after) VALUES ('now', 'al', 1, 'edit', NULL, NULL);
             INSERT INTO models (location, name, version, checksum, labels, added_at) VALUES ('/m', 'm', '1', 'c', '[]', 'now');`);
    v4.close();
    const db = openDatabase(file, {
      migrations: [migration001, migration002, migration003, migration004, migration005],
    });
    expect(db.pragma('user_version', { simple: true })).toBe(5);
    expect(db.prepare('SELECT seq, batch FROM history').all()).toEqual([{ seq: 1, batch: null }]);
    expect(db.prepare('SELECT name, display_name FROM models').all()).toEqual([{ name: 'm', display_name: null }]);
    db.exec(
      `INSERT INTO history (at, annotator, utterance_id, op, before, after, batch) VALUES ('now', 'al', 1, 'edit', NULL, NULL, 7)`,
    );
    expect(() => db.exec('UPDATE history SET batch = 8')).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM history')).toThrow(/append-only/);
    db.close();
  });

  it('migration 006 adds removed/needs-review segments and an append-only segment history', () => {
    const file = path.join(tempDir(), 'v5.sqlite');
    const v5 = openDatabase(file, {
      migrations: [migration001, migration002, migration003, migration004, migration005],
    });
    v5.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s, transcript) VALUES (1, 0, 1, 'kept');`);
    v5.close();
    const db = openDatabase(file, {
      migrations: [migration001, migration002, migration003, migration004, migration005, migration006],
    });
    expect(db.pragma('user_version', { simple: true })).toBe(6);
    expect(db.prepare('SELECT transcript, removed_at, needs_review FROM utterances').all()).toEqual([
      { transcript: 'kept', removed_at: null, needs_review: 0 },
    ]);
    expect(() => db.exec('UPDATE utterances SET needs_review = 2')).toThrow(/CHECK/);
    db.exec(`INSERT INTO segment_history (at, annotator, op, label_seq, before, after)
             VALUES ('now', 'al', 'split', 0, '{}', '{}')`);
    expect(() =>
      db.exec(`INSERT INTO segment_history (at, annotator, op, label_seq, before, after)
               VALUES ('now', 'al', 'explode', 0, '{}', '{}')`),
    ).toThrow(/CHECK/);
    expect(() => db.exec("UPDATE segment_history SET op = 'merge'")).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM segment_history')).toThrow(/append-only/);
    db.close();
  });

  it('migration 008 adds label definitions and ordered example utterances, keeping labels and annotations', () => {
    const file = path.join(tempDir(), 'v7.sqlite');
    const upTo7 = [migration001, migration002, migration003, migration004, migration005, migration006, migration007];
    const v7 = openDatabase(file, { migrations: upTo7 });
    v7.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s, transcript) VALUES (1, 0, 1, 'one'), (1, 1, 2, 'two');
             INSERT INTO annotations (utterance_id, label_id, origin, annotator, updated_at)
               VALUES (1, (SELECT id FROM labels WHERE name = 'sad'), 'human', 'al', 'now');`);
    const labelsBefore = v7.prepare('SELECT id, name, color, hotkey, position FROM labels ORDER BY id').all();
    v7.close();
    const db = openDatabase(file, { migrations: [...upTo7, migration008] });
    expect(db.pragma('user_version', { simple: true })).toBe(8);
    // The labels are as they were, each with an empty definition; the annotation still points at "sad".
    expect(db.prepare('SELECT id, name, color, hotkey, position FROM labels ORDER BY id').all()).toEqual(labelsBefore);
    expect(db.prepare('SELECT DISTINCT definition FROM labels').all()).toEqual([{ definition: '' }]);
    expect(db.prepare('SELECT l.name FROM annotations a JOIN labels l ON l.id = a.label_id').all()).toEqual([
      { name: 'sad' },
    ]);
    // A backup of the schema-7 file was written before the migration.
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema8.sqlite'))).toBe(true);
    const angry = (db.prepare("SELECT id FROM labels WHERE name = 'angry'").get() as { id: number }).id;
    db.prepare('UPDATE labels SET definition = ? WHERE id = ?').run('Raised voice, hostile', angry);
    db.prepare('INSERT INTO label_examples (label_id, utterance_id, position) VALUES (?, 2, 0), (?, 1, 1)').run(
      angry,
      angry,
    );
    expect(() => db.prepare('INSERT INTO label_examples VALUES (?, 2, 5)').run(angry)).toThrow(/UNIQUE|PRIMARY/);
    expect(() => db.prepare('INSERT INTO label_examples VALUES (?, 99, 2)').run(angry)).toThrow(/FOREIGN KEY/);
    expect(
      db.prepare('SELECT utterance_id FROM label_examples WHERE label_id = ? ORDER BY position').all(angry),
    ).toEqual([{ utterance_id: 2 }, { utterance_id: 1 }]);
    // Examples go with their label.
    db.prepare('DELETE FROM labels WHERE id = ?').run(angry);
    expect(db.prepare('SELECT COUNT(*) AS n FROM label_examples').get()).toEqual({ n: 0 });
    db.close();
  });

  it('upgrades an older project in place, keeping its data', () => {
    const file = path.join(tempDir(), 'old.sqlite');
    const db = openDatabase(file, { migrations: [migration001] });
    db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run('name', 'kept');
    db.close();
    const reopened = openDatabase(file);
    expect(reopened.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(reopened.prepare("SELECT value FROM project_meta WHERE key = 'name'").get()).toEqual({ value: 'kept' });
    reopened.close();
  });
});
