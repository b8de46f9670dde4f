import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/main/db/migrations';
import { backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo11 = migrations.filter((m) => m.version <= 11);
const upTo12 = migrations.filter((m) => m.version <= 12);

describe('migration 012', () => {
  it('gives every annotator a share of 1 (all utterances) and the project no calibration set; keeps the roster', () => {
    const file = path.join(tempDir(), 'v11.sqlite');
    const v11 = openDatabase(file, { migrations: upTo11 });
    expect(v11.pragma('user_version', { simple: true })).toBe(11);
    v11.exec(`INSERT INTO annotators (name, role, added_at) VALUES ('ann', 'annotator', 't1'), ('Judge', 'adjudicator', 't2');
              UPDATE labelling_settings SET labels_per_utterance = 2, blind = 1, consensus_rule = 'unanimous';`);
    const roster = v11.prepare('SELECT id, name, role, added_at FROM annotators ORDER BY id').all();
    const settings = v11.prepare('SELECT * FROM labelling_settings').all();
    v11.close();

    const db = openDatabase(file, { migrations: upTo12 });
    expect(db.pragma('user_version', { simple: true })).toBe(12);
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema12.sqlite'))).toBe(true);
    expect(db.prepare('SELECT id, name, role, added_at FROM annotators ORDER BY id').all()).toEqual(roster);
    expect(db.prepare('SELECT name, share FROM annotators ORDER BY id').all()).toEqual([
      { name: 'ann', share: 1 },
      { name: 'Judge', share: 1 },
    ]);
    expect(db.prepare('SELECT * FROM labelling_settings').all()).toEqual(
      (settings as Record<string, unknown>[]).map((s) => ({ ...s, calibration_share: 0 })),
    );
    // A share is more than 0 and at most 1; the calibration share from 0 to 1.
    db.exec("UPDATE annotators SET share = 0.25 WHERE name = 'ann'");
    for (const bad of [0, -1, 1.01])
      expect(() => db.prepare("UPDATE annotators SET share = ? WHERE name = 'ann'").run(bad)).toThrow(/CHECK/);
    db.exec('UPDATE labelling_settings SET calibration_share = 0.1');
    for (const bad of [-0.1, 1.5])
      expect(() => db.prepare('UPDATE labelling_settings SET calibration_share = ?').run(bad)).toThrow(/CHECK/);
    expect(db.prepare('SELECT share FROM annotators ORDER BY id').all()).toEqual([{ share: 0.25 }, { share: 1 }]);
    db.close();
  });
});
