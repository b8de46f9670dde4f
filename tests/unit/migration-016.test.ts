import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consensusStateSql, itemConsensus, projectConsensus, TALLY_JOIN } from '../../src/main/agreement/consensus';
import { LabellingSettingsRepository } from '../../src/main/db/annotators-repository';
import { migrations } from '../../src/main/db/migrations';
import { openDatabase, type Db } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo15 = migrations.filter((m) => m.version <= 15);
const upTo16 = migrations.filter((m) => m.version <= 16);

/** Every utterance's consensus state from the tallies, and from the JS consensus. */
function states(db: Db) {
  const settings = new LabellingSettingsRepository(db).get();
  const { items } = projectConsensus(db);
  const sql = db
    .prepare<[], { id: number; state: string }>(
      `SELECT u.id, ${consensusStateSql(settings)} AS state FROM utterances u ${TALLY_JOIN} ORDER BY u.id`,
    )
    .all();
  return { sql, js: sql.map(({ id }) => ({ id, state: (items.get(id) ?? itemConsensus([], settings)).state })) };
}

describe('migration 016', () => {
  it('replaces the vote-tally triggers, keeps the tallies, and the new triggers keep them equal to the JS consensus', () => {
    const file = path.join(tempDir(), 'v15.sqlite');
    const v15 = openDatabase(file, { migrations: upTo15 });
    expect(v15.pragma('user_version', { simple: true })).toBe(15);
    v15.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
              VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
              INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript)
                VALUES (1, 0, 1, NULL, ''), (1, 1, 2, NULL, ''), (1, 2, 3, NULL, ''), (1, 3, 4, NULL, '');
              INSERT INTO annotators (name, role, added_at) VALUES ('ann', 'annotator', 't'), ('bo', 'annotator', 't');
              UPDATE labelling_settings SET labels_per_utterance = 2;
              INSERT INTO annotations (utterance_id, origin, annotator, label_id, note, updated_at) VALUES
                (1, 'human', 'ann', 1, '', 't'), (1, 'human', 'bo', 1, '', 't'),
                (2, 'human', 'ann', 1, '', 't'), (2, 'human', 'bo', 2, '', 't'), (3, 'human', 'bo', 3, '', 't');
              INSERT INTO adjudications (utterance_id, label_id, adjudicator, reason, at) VALUES (2, 4, 'judge', '', 't');`);
    const tallies = v15.prepare('SELECT * FROM vote_tallies ORDER BY utterance_id').all();
    v15.close();

    const db = openDatabase(file, { migrations: upTo16 });
    expect(db.pragma('user_version', { simple: true })).toBe(16);
    expect(db.prepare('SELECT * FROM vote_tallies ORDER BY utterance_id').all()).toEqual(tallies);
    const triggers = db
      .prepare<[], { name: string; sql: string }>(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'vote_tallies_%' ORDER BY name",
      )
      .all();
    expect(triggers).toHaveLength(7);
    for (const t of triggers) expect(t.sql, t.name).toMatch(/OVER \(/);
    let { sql, js } = states(db);
    expect(sql).toEqual(js);
    expect(sql.map((s) => s.state)).toEqual(['agreed', 'adjudicated', 'pending', 'pending']);

    // writes after the migration: a vote, a changed vote, a removed vote, a role change, a roster removal
    db.exec(`INSERT INTO annotations (utterance_id, origin, annotator, label_id, note, updated_at) VALUES (3, 'human', 'cy', 2, '', 't');
             UPDATE annotations SET label_id = 2 WHERE utterance_id = 1 AND annotator = 'bo';
             INSERT INTO annotations (utterance_id, origin, annotator, label_id, note, updated_at) VALUES (4, 'human', 'ann', 2, '', 't'), (4, 'human', 'cy', 2, '', 't');`);
    ({ sql, js } = states(db));
    expect(sql).toEqual(js);
    expect(sql.map((s) => s.state)).toEqual(['disagreed', 'adjudicated', 'disagreed', 'agreed']);
    db.exec(`UPDATE annotators SET role = 'adjudicator' WHERE name = 'ann'`);
    ({ sql, js } = states(db));
    expect(sql).toEqual(js);
    expect(sql.map((s) => s.state)).toEqual(['pending', 'adjudicated', 'disagreed', 'pending']);
    db.exec(
      `DELETE FROM annotators WHERE name = 'ann'; DELETE FROM annotations WHERE utterance_id = 3 AND annotator = 'cy'`,
    );
    ({ sql, js } = states(db));
    expect(sql).toEqual(js);
    expect(sql.map((s) => s.state)).toEqual(['disagreed', 'adjudicated', 'pending', 'agreed']);
    db.close();
  });
});
