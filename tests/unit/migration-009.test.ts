import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/main/db/migrations';
import { backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo8 = migrations.filter((m) => m.version <= 8);

describe('migration 009', () => {
  it('adds the unsure flag (0 on every annotation) and the text op of the segment history, keeping its rows', () => {
    const file = path.join(tempDir(), 'v8.sqlite');
    const v8 = openDatabase(file, { migrations: upTo8 });
    expect(v8.pragma('user_version', { simple: true })).toBe(8);
    v8.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s, transcript) VALUES (1, 0, 1, 'one'), (1, 1, 2, 'two');
             INSERT INTO annotations (utterance_id, label_id, origin, annotator, note, updated_at)
               VALUES (1, (SELECT id FROM labels WHERE name = 'sad'), 'human', 'al', 'kept', 'now'),
                      (2, NULL, 'import', 'corpus', '', 'now');
             INSERT INTO segment_history (at, annotator, op, label_seq, before, after)
               VALUES ('t1', 'al', 'split', 0, '{"segments":[],"annotations":[]}', '{"segments":[],"annotations":[]}');
             INSERT INTO segment_history (at, annotator, op, target_seq, label_seq, before, after)
               VALUES ('t2', 'al', 'undo', 1, 0, '{}', '{}');`);
    const historyBefore = v8.prepare('SELECT * FROM segment_history ORDER BY seq').all();
    v8.close();

    const db = openDatabase(file, { migrations: migrations.filter((m) => m.version <= 9) });
    expect(db.pragma('user_version', { simple: true })).toBe(9);
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema9.sqlite'))).toBe(true);
    // Every annotation is kept, none of them unsure.
    expect(db.prepare('SELECT utterance_id, origin, note, unsure FROM annotations ORDER BY id').all()).toEqual([
      { utterance_id: 1, origin: 'human', note: 'kept', unsure: 0 },
      { utterance_id: 2, origin: 'import', note: '', unsure: 0 },
    ]);
    db.exec("UPDATE annotations SET unsure = 1 WHERE annotator = 'al'");
    expect(() => db.exec('UPDATE annotations SET unsure = 2')).toThrow(/CHECK/);

    // The segment history: the same rows (seq, target_seq included), and now the text op.
    expect(db.prepare('SELECT * FROM segment_history ORDER BY seq').all()).toEqual(historyBefore);
    db.exec(`INSERT INTO segment_history (at, annotator, op, label_seq, before, after)
             VALUES ('t3', 'al', 'text', 0, '{}', '{}')`);
    expect(() =>
      db.exec(`INSERT INTO segment_history (at, annotator, op, label_seq, before, after)
               VALUES ('t4', 'al', 'explode', 0, '{}', '{}')`),
    ).toThrow(/CHECK/);
    // Still append-only, its indexes back, and target_seq still refers to the history itself.
    expect(() => db.exec("UPDATE segment_history SET op = 'merge'")).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM segment_history')).toThrow(/append-only/);
    expect(
      db
        .prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'segment_history' AND type = 'index' ORDER BY name")
        .all(),
    ).toEqual([{ name: 'segment_history_by_annotator' }, { name: 'segment_history_by_target' }]);
    expect(() =>
      db.exec(`INSERT INTO segment_history (at, annotator, op, target_seq, label_seq, before, after)
               VALUES ('t5', 'al', 'undo', 99, 0, '{}', '{}')`),
    ).toThrow(/FOREIGN KEY/);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'segment_history'").get()).toEqual({
      sql: expect.stringContaining('REFERENCES "segment_history"(seq)'),
    });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});
