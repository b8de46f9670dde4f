import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consensusStateSql, itemConsensus, projectConsensus, TALLY_JOIN } from '../../src/main/agreement/consensus';
import { LabellingSettingsRepository } from '../../src/main/db/annotators-repository';
import { migrations } from '../../src/main/db/migrations';
import { backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo13 = migrations.filter((m) => m.version <= 13);
const upTo14 = migrations.filter((m) => m.version <= 14);

describe('migration 014', () => {
  it('tallies the votes of existing projects: the consensus in SQL equals the JS consensus of every utterance', () => {
    const file = path.join(tempDir(), 'v13.sqlite');
    const v13 = openDatabase(file, { migrations: upTo13 });
    expect(v13.pragma('user_version', { simple: true })).toBe(13);
    // u1: 2 of 3 agree; u2: a tie; u3: one vote; u4: a tie, adjudicated twice (the newest counts);
    // u5: only an imported label and a note without a label; u6: the adjudicator's label only, and a
    // vote by 'BO' (the roster's 'bo', another case); u7: nothing.
    v13.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
              VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
              INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript)
                VALUES (1, 0, 1, NULL, ''), (1, 1, 2, NULL, ''), (1, 2, 3, NULL, ''), (1, 3, 4, NULL, ''),
                       (1, 4, 5, NULL, ''), (1, 5, 6, NULL, ''), (1, 6, 7, NULL, '');
              INSERT INTO annotators (name, role, added_at)
                VALUES ('ann', 'annotator', 't'), ('bo', 'annotator', 't'), ('judge', 'adjudicator', 't');
              UPDATE labelling_settings SET labels_per_utterance = 2;
              INSERT INTO annotations (utterance_id, origin, annotator, label_id, valence, note, updated_at) VALUES
                (1, 'human', 'ann', 1, NULL, '', 't'), (1, 'human', 'bo', 1, NULL, '', 't'), (1, 'human', 'zoe', 2, NULL, '', 't'),
                (2, 'human', 'ann', 1, NULL, '', 't'), (2, 'human', 'bo', 2, NULL, '', 't'),
                (3, 'human', 'zoe', 3, NULL, '', 't'),
                (4, 'human', 'ann', 1, NULL, '', 't'), (4, 'human', 'zoe', 2, NULL, '', 't'),
                (5, 'import', 'corpus', 1, NULL, '', 't'), (5, 'human', 'ann', NULL, 3, 'hm', 't'),
                (6, 'human', 'judge', 4, NULL, '', 't'), (6, 'human', 'BO', 2, NULL, '', 't');
              INSERT INTO adjudications (utterance_id, label_id, adjudicator, reason, at)
                VALUES (4, 3, 'judge', 'first', 't'), (4, 4, 'judge', 'second', 't');`);
    const before = v13.prepare('SELECT * FROM annotations ORDER BY id').all();
    v13.close();

    const db = openDatabase(file, { migrations: upTo14 });
    expect(db.pragma('user_version', { simple: true })).toBe(14);
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema14.sqlite'))).toBe(true);
    expect(db.prepare('SELECT * FROM annotations ORDER BY id').all()).toEqual(before);
    expect(db.prepare('SELECT * FROM vote_tallies ORDER BY utterance_id').all()).toEqual([
      { utterance_id: 1, labels: 3, distinct_labels: 2, top_label: 1, adjudicated_label: null },
      { utterance_id: 2, labels: 2, distinct_labels: 2, top_label: null, adjudicated_label: null },
      { utterance_id: 3, labels: 1, distinct_labels: 1, top_label: 3, adjudicated_label: null },
      { utterance_id: 4, labels: 2, distinct_labels: 2, top_label: null, adjudicated_label: 4 },
      { utterance_id: 5, labels: 0, distinct_labels: 0, top_label: null, adjudicated_label: null },
      { utterance_id: 6, labels: 1, distinct_labels: 1, top_label: 2, adjudicated_label: null },
    ]);
    const settings = new LabellingSettingsRepository(db).get();
    const { items } = projectConsensus(db);
    const sql = db
      .prepare(`SELECT u.id, ${consensusStateSql(settings)} AS state FROM utterances u ${TALLY_JOIN} ORDER BY u.id`)
      .all();
    expect(sql).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((id) => ({ id, state: (items.get(id) ?? itemConsensus([], settings)).state })),
    );
    expect(sql.map((r) => (r as { state: string }).state)).toEqual([
      'agreed',
      'disagreed',
      'pending',
      'adjudicated',
      'pending',
      'pending',
      'pending',
    ]);
    db.close();
  });
});
