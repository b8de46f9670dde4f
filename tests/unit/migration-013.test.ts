import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignmentPool } from '../../src/main/agreement/consensus';
import { migrations } from '../../src/main/db/migrations';
import { backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo12 = migrations.filter((m) => m.version <= 12);
const upTo13 = migrations.filter((m) => m.version <= 13);

describe('migration 013', () => {
  it('indexes the annotations by origin and annotator, keeps them, and the assignment pool reads the index', () => {
    const file = path.join(tempDir(), 'v12.sqlite');
    const v12 = openDatabase(file, { migrations: upTo12 });
    expect(v12.pragma('user_version', { simple: true })).toBe(12);
    v12.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
              VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
              INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript) VALUES (1, 0, 1, NULL, ''), (1, 1, 2, NULL, '');
              INSERT INTO annotators (name, role, added_at) VALUES ('ann', 'annotator', 't');
              INSERT INTO annotations (utterance_id, origin, annotator, label_id, note, updated_at) VALUES
                (1, 'human', 'ann', 1, '', 't'), (1, 'human', 'zoe', 1, '', 't'), (2, 'human', 'bob', 1, '', 't'),
                (2, 'human', 'zoe', 1, '', 't'), (2, 'import', 'corpus', 1, '', 't');`);
    const before = v12.prepare('SELECT * FROM annotations ORDER BY id').all();
    v12.close();

    const db = openDatabase(file, { migrations: upTo13 });
    expect(db.pragma('user_version', { simple: true })).toBe(13);
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema13.sqlite'))).toBe(true);
    expect(db.prepare('SELECT * FROM annotations ORDER BY id').all()).toEqual(before);
    // people with labels who are not on the roster, each once, in name order; imported labels are not people
    expect(assignmentPool(db)).toEqual([
      { name: 'ann', share: 1 },
      { name: 'bob', share: 1 },
      { name: 'zoe', share: 1 },
    ]);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT MIN(annotator) FROM annotations WHERE origin = 'human' AND annotator > 'ann'`)
      .all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/annotations_by_annotator/);
    db.close();
  });
});
