import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/main/db/migrations';
import { openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo10 = migrations.filter((m) => m.version <= 10);
const upTo11 = migrations.filter((m) => m.version <= 11);

describe('migration 011', () => {
  it('gives every project its own id, adds the merge tables and history.merge_id, leaves the history as it was', () => {
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      const file = path.join(tempDir(), `${name}.sqlite`);
      const v10 = openDatabase(file, { migrations: upTo10 });
      v10.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
                 VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
                INSERT INTO utterances (recording_id, start_s, end_s) VALUES (1, 0, 1);
                INSERT INTO history (at, annotator, utterance_id, op, before, after) VALUES ('t1', 'ann', 1, 'edit', NULL, '{"labelId":1}');`);
      const before = v10.prepare('SELECT seq, at, annotator, utterance_id, op, before, after FROM history').all();
      v10.close();

      const db = openDatabase(file, { migrations: upTo11 });
      expect(db.pragma('user_version', { simple: true })).toBe(11);
      const id = (db.prepare("SELECT value FROM project_meta WHERE key = 'project_id'").get() as { value: string })
        .value;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      ids.push(id);
      expect(db.prepare('SELECT seq, at, annotator, utterance_id, op, before, after FROM history').all()).toEqual(
        before,
      );
      expect(db.prepare('SELECT merge_id FROM history').all()).toEqual([{ merge_id: null }]);
      db.exec(
        `INSERT INTO merges (at, annotator, copy_project_id, copy_path, report) VALUES ('t2', 'ann', 'c', '/c', '{}')`,
      );
      db.exec(`INSERT INTO merge_changes (merge_id, kind, target) VALUES (1, 'utterance', '1')`);
      expect(() => db.exec(`INSERT INTO merge_changes (merge_id, kind, target) VALUES (1, 'recording', '1')`)).toThrow(
        /CHECK/,
      );
      expect(() => db.exec(`INSERT INTO merge_changes (merge_id, kind, target) VALUES (9, 'utterance', '1')`)).toThrow(
        /FOREIGN KEY/,
      );
      // history stays append-only
      expect(() => db.exec('UPDATE history SET merge_id = 1')).toThrow(/append-only/);
      db.close();
    }
    expect(ids[0]).not.toBe(ids[1]);
  });
});
