import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/main/db/migrations';
import { backupDir, openDatabase } from '../../src/main/db/open-database';
import { tempDir } from '../helpers/fixtures';

const upTo14 = migrations.filter((m) => m.version <= 14);
const upTo15 = migrations.filter((m) => m.version <= 15);

describe('migration 015', () => {
  it('indexes the predictions by model and confidence, keeps them, and the confidence count reads the index only', () => {
    const file = path.join(tempDir(), 'v14.sqlite');
    const v14 = openDatabase(file, { migrations: upTo14 });
    expect(v14.pragma('user_version', { simple: true })).toBe(14);
    v14.exec(`INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks, peaks_per_second, imported_at)
              VALUES ('/a.wav', 'a.wav', 1, 'x', 'wav', 9, 16000, 1, x'', 100, 'now');
              INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript)
                VALUES (1, 0, 1, NULL, ''), (1, 1, 2, NULL, ''), (1, 2, 3, NULL, '');
              INSERT INTO models (location, name, version, checksum, labels, added_at)
                VALUES ('builtin:m', 'm', '1', 'c', '["neutral","happy"]', 't'), ('builtin:m', 'm', '2', 'd', '["neutral","happy"]', 't');`);
    const predict = v14.prepare(
      `INSERT INTO predictions (utterance_id, model_id, probabilities, predicted_label, confidence, entropy, text_gate, text_used, windows, created_at)
       VALUES (?, ?, '[0.5,0.5]', 'happy', ?, 0.5, 0, 0, 1, 't')`,
    );
    predict.run(1, 1, 0.9);
    predict.run(2, 1, 0.4);
    predict.run(3, 1, 0.45);
    predict.run(1, 2, 0.3);
    const before = v14.prepare('SELECT * FROM predictions ORDER BY utterance_id, model_id').all();
    v14.close();

    const db = openDatabase(file, { migrations: upTo15 });
    expect(db.pragma('user_version', { simple: true })).toBe(15);
    expect(fs.readdirSync(backupDir(file)).some((f) => f.endsWith('-before-schema15.sqlite'))).toBe(true);
    expect(db.prepare('SELECT * FROM predictions ORDER BY utterance_id, model_id').all()).toEqual(before);
    const count = `SELECT COUNT(*) AS n FROM utterances u JOIN recordings r ON r.id = u.recording_id
                   LEFT JOIN predictions p ON p.utterance_id = u.id AND p.model_id = ?
                   WHERE u.removed_at IS NULL AND p.confidence < ?`;
    expect(db.prepare(count).get(1, 0.5)).toEqual({ n: 2 });
    expect(db.prepare(count).get(2, 0.5)).toEqual({ n: 1 });
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${count}`).all(1, 0.5) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/COVERING INDEX predictions_by_confidence/);
    db.close();
  });
});
