import type { UtteranceFilter, UtteranceRow } from '../../shared/contract';
import { consensusFilterSql, TALLY_JOIN, withConsensus } from '../agreement/consensus';
import type { Db } from './open-database';

/** The split names an utterance can carry from its corpus (migration 010). */
export const STORED_SPLITS = ['train', 'validation', 'test'] as const;
export type StoredSplit = (typeof STORED_SPLITS)[number];

export interface NewUtterance {
  recordingId: number;
  start: number;
  end: number;
  speaker: string | null;
  transcript: string;
  /** The split its corpus put it in (MELD, audiofolder), if any. */
  split?: StoredSplit | null;
}

export interface UtteranceRecord extends NewUtterance {
  id: number;
}

/** Who is looking and with which model: what a list row depends on besides the utterance. */
export interface RowContext {
  annotator: string;
  missing: ReadonlySet<number>;
  modelId: number | null;
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
  predLabel: string | null;
  predLabelId: number | null;
  predConfidence: number | null;
  predEntropy: number | null;
  needsReview: number;
  unsure: number | null;
}

/** The list row: the current annotator's label and the first imported label, per utterance. */
const ROW_SELECT = `
  SELECT u.id, u.recording_id AS recordingId, r.file_name AS recordingName, u.start_s AS start, u.end_s AS "end",
         u.speaker, u.transcript, u.needs_review AS needsReview,
         h.label_id AS labelId, CASE WHEN h.label_id IS NULL THEN NULL ELSE h.annotator END AS annotator,
         h.unsure AS unsure,
         (SELECT i.label_id FROM annotations i
           WHERE i.utterance_id = u.id AND i.origin = 'import' AND i.label_id IS NOT NULL
           ORDER BY i.id LIMIT 1) AS importedLabelId,
         p.predicted_label AS predLabel, pl.id AS predLabelId, p.confidence AS predConfidence, p.entropy AS predEntropy
  FROM utterances u
  JOIN recordings r ON r.id = u.recording_id
  LEFT JOIN annotations h ON h.utterance_id = u.id AND h.origin = 'human' AND h.annotator = @annotator
  LEFT JOIN predictions p ON p.utterance_id = u.id AND p.model_id = @modelId
  LEFT JOIN labels pl ON pl.name = p.predicted_label`;

/** The joins a list query may need besides the recording, by alias; each is on a unique key. */
const LIST_JOINS: [RegExp, string][] = [
  [/\bh\./, `LEFT JOIN annotations h ON h.utterance_id = u.id AND h.origin = 'human' AND h.annotator = @annotator`],
  [/\bpl?\./, 'LEFT JOIN predictions p ON p.utterance_id = u.id AND p.model_id = @modelId'],
  [/\bpl\./, 'LEFT JOIN labels pl ON pl.name = p.predicted_label'],
  [/\bc\./, TALLY_JOIN],
];

/**
 * The FROM clause of a list query's ids or count: the utterance `u` and its recording `r`, and of the
 * other joins only those `sql` (its WHERE and ORDER BY) names. Each is a LEFT JOIN on a unique key, so
 * leaving one out never changes which rows match or how many, and a count that needs none reads an
 * index only (at 100,000 utterances 4 ms instead of 70). `inPathOrder`: the recordings first, by path
 * (CROSS JOIN fixes the loop order), so that the recording sort reads the utterances in the order of
 * their index and stops at the page's end instead of sorting every match.
 */
function listFrom(sql: string, inPathOrder: boolean): string {
  const from = inPathOrder
    ? 'FROM recordings r CROSS JOIN utterances u ON u.recording_id = r.id'
    : 'FROM utterances u JOIN recordings r ON r.id = u.recording_id';
  return [from, ...LIST_JOINS.filter(([alias]) => alias.test(sql)).map(([, join]) => join)].join('\n');
}

function toRow(rec: RowRecord, missing: ReadonlySet<number>): Omit<UtteranceRow, 'consensus'> {
  const { predLabel, predLabelId, predConfidence, predEntropy, needsReview, unsure, ...rest } = rec;
  return {
    ...rest,
    needsReview: needsReview === 1,
    unsure: unsure === 1,
    missing: missing.has(rec.recordingId),
    prediction:
      predLabel === null
        ? null
        : { label: predLabel, labelId: predLabelId, confidence: predConfidence!, entropy: predEntropy! },
  };
}

export class UtterancesRepository {
  constructor(private readonly db: Db) {}

  insert(u: NewUtterance): number {
    const info = this.db
      .prepare(
        'INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript, split) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(u.recordingId, u.start, u.end, u.speaker, u.transcript, u.split ?? null);
    return Number(info.lastInsertRowid);
  }

  /** Gives an utterance the split its corpus put it in, where it has none yet (a later import of the same clip). */
  setSplitIfNone(id: number, split: StoredSplit): void {
    this.db.prepare('UPDATE utterances SET split = ? WHERE id = ? AND split IS NULL').run(split, id);
  }

  /** A segment made from another (a split's second half) keeps its imported split. */
  copySplit(fromId: number, toId: number): void {
    this.db
      .prepare('UPDATE utterances SET split = (SELECT split FROM utterances WHERE id = ?) WHERE id = ?')
      .run(fromId, toId);
  }

  /** The stored (imported) split of every live utterance that has one. */
  importedSplits(): Map<number, StoredSplit> {
    const rows = this.db
      .prepare<[], { id: number; split: StoredSplit }>(
        'SELECT id, split FROM utterances WHERE split IS NOT NULL AND removed_at IS NULL',
      )
      .all();
    return new Map(rows.map((r) => [r.id, r.split]));
  }

  find(recordingId: number, start: number, end: number): UtteranceRecord | undefined {
    return this.db
      .prepare<[number, number, number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE recording_id = ? AND abs(start_s - ?) < 1e-6 AND abs(end_s - ?) < 1e-6
           AND removed_at IS NULL`,
      )
      .get(recordingId, start, end);
  }

  /** A live utterance (not removed by a segment edit). */
  byId(id: number): UtteranceRecord | undefined {
    return this.db
      .prepare<[number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE id = ? AND removed_at IS NULL`,
      )
      .get(id);
  }

  /** Live utterances of a recording, in time order. */
  ofRecording(recordingId: number): UtteranceRecord[] {
    return this.db
      .prepare<[number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE recording_id = ? AND removed_at IS NULL ORDER BY start_s, end_s, id`,
      )
      .all(recordingId);
  }

  /** Utterances of a recording that overlap [start, end]. */
  overlapping(recordingId: number, start: number, end: number): UtteranceRecord[] {
    return this.db
      .prepare<[number, number, number], UtteranceRecord>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
         FROM utterances WHERE recording_id = ? AND end_s > ? AND start_s < ? AND removed_at IS NULL
         ORDER BY start_s`,
      )
      .all(recordingId, start, end);
  }

  updateText(id: number, speaker: string | null, transcript: string): void {
    this.db.prepare('UPDATE utterances SET speaker = ?, transcript = ? WHERE id = ?').run(speaker, transcript, id);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM utterances WHERE removed_at IS NULL').get() as { n: number }).n;
  }

  /**
   * The live utterances' distinct speakers, in order: a skip scan of utterances_by_speaker (one seek per
   * speaker, stopping at their first live utterance) rather than a DISTINCT over every utterance, which
   * read every row for `removed_at` (0.1 ms instead of 80–160 ms at 100,000 utterances; the project
   * info of the first screen asks for it).
   */
  speakers(): string[] {
    return this.db
      .prepare<[], { speaker: string }>(
        `WITH RECURSIVE s(speaker) AS (
           SELECT MIN(speaker) FROM utterances WHERE speaker IS NOT NULL AND removed_at IS NULL
           UNION ALL
           SELECT (SELECT MIN(u.speaker) FROM utterances u WHERE u.speaker > s.speaker AND u.removed_at IS NULL)
           FROM s WHERE s.speaker IS NOT NULL
         )
         SELECT speaker FROM s WHERE speaker IS NOT NULL`,
      )
      .all()
      .map((r) => r.speaker);
  }

  row(id: number, context: RowContext): UtteranceRow | undefined {
    const rec = this.db
      .prepare<{ annotator: string; id: number; modelId: number | null }, RowRecord>(
        `${ROW_SELECT} WHERE u.id = @id AND u.removed_at IS NULL`,
      )
      .get({ annotator: context.annotator, modelId: context.modelId, id });
    return rec && withConsensus(this.db, [toRow(rec, context.missing)], context.annotator)[0];
  }

  list(filter: UtteranceFilter, context: RowContext): UtteranceRow[] {
    return this.page(filter, context).rows;
  }

  /**
   * One page of the filtered list (`offset`, at most `limit` rows; no limit: all) and the filtered
   * total, from one WHERE clause. The order is total (it ends with the id), so pages never skip or
   * repeat a row.
   */
  page(
    filter: UtteranceFilter,
    context: RowContext,
    range: { offset?: number; limit?: number | null } = {},
  ): { rows: UtteranceRow[]; filtered: number } {
    const offset = range.offset ?? 0;
    const limit = range.limit ?? null;
    const where: string[] = ['u.removed_at IS NULL'];
    const params: Record<string, unknown> = { annotator: context.annotator, modelId: context.modelId };
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
    if (filter.unsure) where.push('h.unsure = 1');
    // Everyone's labels (needs my label, needs more labels, agreed, …): in SQL over the utterance's
    // tally (migration 014), so only the page's rows are built (docs: src/main/agreement/consensus.ts).
    const byConsensus = consensusFilterSql(this.db, context.annotator, filter.consensus);
    if (byConsensus) {
      where.push(byConsensus.sql);
      Object.assign(params, byConsensus.params);
    }
    const search = filter.search.trim();
    if (search) {
      // The transcript, the file name, the speaker, and the notes this annotator may see: their own and
      // those a corpus came with (another annotator's stay out, as blind mode would hide them).
      // The notes are read once each (annotations_by_annotator: the viewer's, then the imported ones), not
      // looked up per utterance.
      where.push(`(u.transcript LIKE @search ESCAPE '\\' OR r.file_name LIKE @search ESCAPE '\\'
        OR u.speaker LIKE @search ESCAPE '\\'
        OR u.id IN (SELECT n.utterance_id FROM annotations n WHERE n.origin = 'human' AND n.annotator = @annotator
                      AND n.note LIKE @search ESCAPE '\\')
        OR u.id IN (SELECT n.utterance_id FROM annotations n WHERE n.origin = 'import'
                      AND n.note LIKE @search ESCAPE '\\'))`);
      params.search = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    if (filter.maxConfidence !== null) {
      where.push('p.confidence < @maxConfidence');
      params.maxConfidence = filter.maxConfidence;
    }
    if (filter.predictedLabelId !== null) {
      where.push('pl.id = @predictedLabelId');
      params.predictedLabelId = filter.predictedLabelId;
    }
    if (filter.disagreement)
      where.push('h.label_id IS NOT NULL AND p.utterance_id IS NOT NULL AND pl.id IS NOT h.label_id');
    if (filter.missing) {
      const missing = [...context.missing].filter(Number.isInteger);
      where.push(`u.recording_id IN (${missing.join(', ') || 'NULL'})`);
    }
    const order =
      filter.sort === 'uncertainty'
        ? 'p.entropy IS NULL, p.entropy DESC, r.path, u.start_s, u.id'
        : 'r.path, u.start_s, u.id';
    const whereSql = `WHERE ${where.join(' AND ')}`;
    const window = limit !== null || offset > 0;
    if (!window) {
      const rows = this.db
        .prepare<Record<string, unknown>, RowRecord>(
          `${ROW_SELECT} ${byConsensus ? TALLY_JOIN : ''} ${whereSql} ORDER BY ${order}`,
        )
        .all(params)
        .map((rec) => toRow(rec, context.missing));
      // Everyone's labels and blind mode (docs: src/main/agreement/consensus.ts); filtered above.
      const decorated = withConsensus(this.db, rows, context.annotator);
      return { rows: decorated, filtered: decorated.length };
    }
    // The count first (only the joins the filter needs), then the page's ids (narrow rows), then the full
    // rows of just those.
    const filtered = (
      this.db
        .prepare<Record<string, unknown>, { n: number }>(
          `SELECT COUNT(*) AS n ${listFrom(whereSql, false)} ${whereSql}`,
        )
        .get(params) as { n: number }
    ).n;
    if (filtered <= offset) return { rows: [], filtered };
    // In recording order where the matches are dense enough that reading the utterances in that order
    // (about end × total / filtered of them) reaches the page's end within 4 rows per match: no sort,
    // and no index the filter would otherwise pick (`+p.confidence`: not the confidence index, whose
    // plan sorts every match). Sparse matches: the planner's own plan (the filter's index, then a sort
    // of the matches).
    const end = limit === null ? filtered : Math.min(filtered, offset + limit);
    const read = (end * this.count()) / filtered;
    const ordered = filter.sort === 'recording' && read <= 4 * filtered;
    const idsWhere = ordered ? whereSql.replaceAll('p.confidence <', '+p.confidence <') : whereSql;
    const ids = this.db
      .prepare<Record<string, unknown>, { id: number }>(
        `SELECT u.id ${listFrom(idsWhere + order, ordered)} ${idsWhere} ORDER BY ${order} LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: limit ?? -1, offset })
      .map((r) => r.id);
    const at = new Map(ids.map((id, i) => [id, i]));
    const rows = this.db
      .prepare<Record<string, unknown>, RowRecord>(`${ROW_SELECT} WHERE u.id IN (${ids.join(', ') || 'NULL'})`)
      .all({ annotator: context.annotator, modelId: context.modelId })
      .sort((x, y) => at.get(x.id)! - at.get(y.id)!)
      .map((rec) => toRow(rec, context.missing));
    return { rows: withConsensus(this.db, rows, context.annotator), filtered };
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
