import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/main/db/migrations';
import { backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo9 = migrations.filter((m) => m.version <= 9);
const upTo10 = migrations.filter((m) => m.version <= 10);

describe('migration 010', () => {
  it('adds the imported split to every utterance (none on the existing ones), limited to train/validation/test', () => {
    const file = path.join(tempDir(), 'v9.sqlite');
    const v9 = openDatabase(file, { migrations: upTo9 });
    expect(v9.pragma('user_version', { simple: true })).toBe(9);
    v9.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
             VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
             INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript) VALUES (1, 0, 1, 'al', 'one'), (1, 1, 2, NULL, 'two');`);
    const before = v9.prepare('SELECT id, recording_id, start_s, end_s, speaker, transcript FROM utterances').all();
    v9.close();

    const db = openDatabase(file, { migrations: upTo10 });
    expect(db.pragma('user_version', { simple: true })).toBe(10);
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema10.sqlite'))).toBe(true);
    expect(db.prepare('SELECT id, recording_id, start_s, end_s, speaker, transcript FROM utterances').all()).toEqual(
      before,
    );
    expect(db.prepare('SELECT split FROM utterances ORDER BY id').all()).toEqual([{ split: null }, { split: null }]);
    db.exec("UPDATE utterances SET split = 'validation' WHERE id = 1");
    db.exec("UPDATE utterances SET split = 'test' WHERE id = 2");
    expect(() => db.exec("UPDATE utterances SET split = 'dev' WHERE id = 1")).toThrow(/CHECK/);
    expect(db.prepare('SELECT split FROM utterances ORDER BY id').all()).toEqual([
      { split: 'validation' },
      { split: 'test' },
    ]);
    db.close();
  });
});
