import type { UtteranceFilter, UtteranceRow } from '../../shared/contract';
import type { Db } from './open-database';

export interface NewUtterance {
  recordingId: number;
  start: number;
  end: number;
  speaker: string | null;
  transcript: string;
}

export interface UtteranceRecord extends NewUtterance {
  id: number;
}

interface RowRecord {
  id: number;
  recordingId: number;
  recordingName: string;
  start: number;
  end: number;
  speaker: string | null;
  transcript: string;
  labelId: number | null;
  annotator: string | null;
  importedLabelId: number | null;
}

/** The list row: the current annotator's label and the first imported label, per utterance. */
const ROW_SELECT = `
  SELECT u.id, u.recording_id AS recordingId, r.file_name AS recordingName, u.start_s AS start, u.end_s AS "end",
         u.speaker, u.transcript,
         h.label_id AS labelId, CASE WHEN h.label_id IS NULL THEN NULL ELSE h.annotator END AS annotator,
         (SELECT i.label_id FROM annotations i
           WHERE i.utterance_id = u.id AND i.origin = 'import' AND i.label_id IS NOT NULL
           ORDER BY i.id LIMIT 1) AS importedLabelId
  FROM utterances u
  JOIN recordings r ON r.id = u.recording_id
  LEFT JOIN annotations h ON h.utterance_id = u.id AND h.origin = 'human' AND h.annotator = @annotator`;

export class UtterancesRepository {
  constructor(private readonly db: Db) {}

  insert(u: NewUtterance): number {
    const info = this.db
      .prepare('INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript) VALUES (?, ?, ?, ?, ?)')
      .run(u.recordingId, u.start, u.end, u.speaker, u.transcript);
    return Number(info.lastInsertRowid);
  }

  find(recordingId: number, start: number, end: number): UtteranceRecord | undefined {
    return this.db
      .prepare<[number, number, number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE recording_id = ? AND abs(start_s - ?) < 1e-6 AND abs(end_s - ?) < 1e-6`,
      )
      .get(recordingId, start, end);
  }

  byId(id: number): UtteranceRecord | undefined {
    return this.db
      .prepare<[number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE id = ?`,
      )
      .get(id);
  }

  /** Utterances of a recording that overlap [start, end]. */
  overlapping(recordingId: number, start: number, end: number): UtteranceRecord[] {
    return this.db
      .prepare<[number, number, number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE recording_id = ? AND end_s > ? AND start_s < ? ORDER BY start_s`,
      )
      .all(recordingId, start, end);
  }

  updateText(id: number, speaker: string | null, transcript: string): void {
    this.db.prepare('UPDATE utterances SET speaker = ?, transcript = ? WHERE id = ?').run(speaker, transcript, id);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM utterances').get() as { n: number }).n;
  }

  speakers(): string[] {
    return this.db
      .prepare<[], { speaker: string }>(
        'SELECT DISTINCT speaker FROM utterances WHERE speaker IS NOT NULL ORDER BY speaker',
      )
      .all()
      .map((r) => r.speaker);
  }

  row(id: number, annotator: string, missing: ReadonlySet<number>): UtteranceRow | undefined {
    const rec = this.db.prepare<{ annotator: string; id: number }, RowRecord>(`${ROW_SELECT} WHERE u.id = @id`).get({
      annotator,
      id,
    });
    return rec && { ...rec, missing: missing.has(rec.recordingId) };
  }

  list(filter: UtteranceFilter, annotator: string, missing: ReadonlySet<number>): UtteranceRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { annotator };
    if (filter.status === 'unlabelled') where.push('h.label_id IS NULL');
    if (filter.status === 'labelled') where.push('h.label_id IS NOT NULL');
    if (filter.labelId !== null) {
      where.push('h.label_id = @labelId');
      params.labelId = filter.labelId;
    }
    if (filter.speaker !== null) {
      where.push('u.speaker = @speaker');
      params.speaker = filter.speaker;
    }
    const search = filter.search.trim();
    if (search) {
      where.push(`(u.transcript LIKE @search ESCAPE '\\' OR r.file_name LIKE @search ESCAPE '\\')`);
      params.search = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    const sql = `${ROW_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.path, u.start_s, u.id`;
    return this.db
      .prepare<Record<string, unknown>, RowRecord>(sql)
      .all(params)
      .map((rec) => ({ ...rec, missing: missing.has(rec.recordingId) }));
  }

  labelledCount(annotator: string): number {
    return (
      this.db
        .prepare(
          `SELECT COUNT(*) AS n FROM annotations WHERE origin = 'human' AND annotator = ? AND label_id IS NOT NULL`,
        )
        .get(annotator) as { n: number }
    ).n;
  }
}
