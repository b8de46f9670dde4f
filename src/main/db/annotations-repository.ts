import type { Statement } from 'better-sqlite3';
import type { Annotation, AnnotationState } from '../../shared/contract';
import type { Db } from './open-database';

export const EMPTY_ANNOTATION: AnnotationState = {
  labelId: null,
  valence: null,
  arousal: null,
  dominance: null,
  note: '',
  unsure: false,
};

/** A state to write: an import's has no unsure flag (not unsure). */
export type AnnotationInput = Omit<AnnotationState, 'unsure'> & { unsure?: boolean };

export function isEmptyAnnotation(s: AnnotationInput): boolean {
  return (
    s.labelId === null && s.valence === null && s.arousal === null && s.dominance === null && s.note === '' && !s.unsure
  );
}

/** A state as stored in history JSON: entries from before the unsure flag (migration 009) lack it. */
function stateFromJson(json: string): AnnotationState {
  return { unsure: false, ...(JSON.parse(json) as Omit<AnnotationState, 'unsure'> & { unsure?: boolean }) };
}

export interface HistoryEntry {
  seq: number;
  at: string;
  annotator: string;
  utteranceId: number;
  op: 'edit' | 'undo' | 'redo';
  targetSeq: number | null;
  before: AnnotationState | null;
  after: AnnotationState | null;
  /** Entries made in one step share a batch (one Undo reverts them all); null for a single edit. */
  batch: number | null;
}

interface HistoryRecord extends Omit<HistoryEntry, 'before' | 'after'> {
  before: string | null;
  after: string | null;
}

const HISTORY_COLUMNS = `seq, at, annotator, utterance_id AS utteranceId, op, target_seq AS targetSeq, before, after, batch`;

const fromRecord = (r: HistoryRecord): HistoryEntry => ({
  ...r,
  before: r.before === null ? null : stateFromJson(r.before),
  after: r.after === null ? null : stateFromJson(r.after),
});

/** One annotation as an export writes it: the label and everything else the annotator entered. */
export interface ExportableAnnotation {
  utteranceId: number;
  labelId: number;
  annotator: string;
  origin: string;
  valence: number | null;
  arousal: number | null;
  dominance: number | null;
  note: string;
  /** The annotator flagged it "unsure / skip". */
  unsure: boolean;
  updatedAt: string;
}

/** Annotations (current state per utterance, origin and annotator) and the append-only history. */
export class AnnotationsRepository {
  constructor(private readonly db: Db) {}

  get(utteranceId: number, origin: 'human' | 'import', annotator: string): Annotation | undefined {
    const row = this.db
      .prepare<[number, string, string], Omit<Annotation, 'unsure'> & { unsure: number }>(
        `SELECT utterance_id AS utteranceId, origin, annotator, label_id AS labelId, valence, arousal, dominance,
                note, unsure, updated_at AS updatedAt
         FROM annotations WHERE utterance_id = ? AND origin = ? AND annotator = ?`,
      )
      .get(utteranceId, origin, annotator);
    return row && { ...row, unsure: row.unsure === 1 };
  }

  /** Writes the state; an empty state removes the annotation. */
  put(
    utteranceId: number,
    origin: 'human' | 'import',
    annotator: string,
    state: AnnotationInput | null,
    at: string,
  ): void {
    if (state === null || isEmptyAnnotation(state)) {
      this.statements.remove.run(utteranceId, origin, annotator);
      return;
    }
    this.statements.upsert.run({ utteranceId, origin, annotator, ...state, unsure: state.unsure ? 1 : 0, at });
  }

  /**
   * The writes' statements, prepared once (on first use): preparing one compiles the tables' triggers
   * into it (the vote tallies, migrations 014 and 016), which costs more than running it, and imports
   * and the benchmarks write hundreds of thousands of annotations.
   */
  private get statements() {
    this.prepared ??= {
      remove: this.db.prepare('DELETE FROM annotations WHERE utterance_id = ? AND origin = ? AND annotator = ?'),
      upsert: this.db.prepare(
        `INSERT INTO annotations (utterance_id, origin, annotator, label_id, valence, arousal, dominance, note, unsure, updated_at)
         VALUES (@utteranceId, @origin, @annotator, @labelId, @valence, @arousal, @dominance, @note, @unsure, @at)
         ON CONFLICT (utterance_id, origin, annotator) DO UPDATE SET
           label_id = excluded.label_id, valence = excluded.valence, arousal = excluded.arousal,
           dominance = excluded.dominance, note = excluded.note, unsure = excluded.unsure,
           updated_at = excluded.updated_at`,
      ),
    };
    return this.prepared;
  }

  private prepared:
    { remove: Statement<[number, string, string]>; upsert: Statement<[Record<string, unknown>]> } | undefined;

  appendHistory(entry: Omit<HistoryEntry, 'seq' | 'batch'> & { batch?: number | null }): number {
    const info = this.db
      .prepare(
        `INSERT INTO history (at, annotator, utterance_id, op, target_seq, before, after, batch)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.at,
        entry.annotator,
        entry.utteranceId,
        entry.op,
        entry.targetSeq,
        entry.before === null ? null : JSON.stringify(entry.before),
        entry.after === null ? null : JSON.stringify(entry.after),
        entry.batch ?? null,
      );
    return Number(info.lastInsertRowid);
  }

  /** A batch number no history entry has yet (call inside the write transaction that uses it). */
  newBatch(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(batch), 0) + 1 AS b FROM history').get() as { b: number }).b;
  }

  /**
   * The entries of a batch that one Undo (ops edit/redo, not yet undone) or one Redo (op undo, not
   * yet redone) applies together, in order.
   */
  batchEntries(batch: number, annotator: string, step: 'undo' | 'redo'): HistoryEntry[] {
    const sql =
      step === 'undo'
        ? `SELECT ${HISTORY_COLUMNS} FROM history x WHERE x.batch = ? AND x.annotator = ? AND x.op IN ('edit', 'redo')
             AND NOT EXISTS (SELECT 1 FROM history u WHERE u.op = 'undo' AND u.target_seq = x.seq) ORDER BY x.seq`
        : `SELECT ${HISTORY_COLUMNS} FROM history u WHERE u.batch = ? AND u.annotator = ? AND u.op = 'undo'
             AND NOT EXISTS (SELECT 1 FROM history r WHERE r.op = 'redo' AND r.target_seq = u.seq) ORDER BY u.seq`;
    return this.db.prepare<[number, string], HistoryRecord>(sql).all(batch, annotator).map(fromRecord);
  }

  /**
   * The newest edit or redo of this annotator that no undo has reverted: what Undo reverts next. Entries a
   * merge brought in from a hand-out copy (`merge_id`) are the copy's own past: undoMerge reverts them.
   */
  nextUndo(annotator: string): HistoryEntry | undefined {
    const r = this.db
      .prepare<[string], HistoryRecord>(
        `SELECT ${HISTORY_COLUMNS} FROM history x
         WHERE x.annotator = ? AND x.op IN ('edit', 'redo') AND x.merge_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM history u WHERE u.op = 'undo' AND u.target_seq = x.seq)
         ORDER BY x.seq DESC LIMIT 1`,
      )
      .get(annotator);
    return r && fromRecord(r);
  }

  /** The newest undo not yet redone, provided no new edit came after it: what Redo re-applies next. */
  nextRedo(annotator: string): HistoryEntry | undefined {
    const r = this.db
      .prepare<[string], HistoryRecord>(
        `SELECT ${HISTORY_COLUMNS} FROM history u
         WHERE u.annotator = ? AND u.op = 'undo' AND u.merge_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM history r WHERE r.op = 'redo' AND r.target_seq = u.seq)
           AND NOT EXISTS (SELECT 1 FROM history e WHERE e.annotator = u.annotator AND e.op = 'edit' AND e.seq > u.seq)
         ORDER BY u.seq DESC LIMIT 1`,
      )
      .get(annotator);
    return r && fromRecord(r);
  }

  history(utteranceId?: number): HistoryEntry[] {
    const rows =
      utteranceId === undefined
        ? this.db.prepare<[], HistoryRecord>(`SELECT ${HISTORY_COLUMNS} FROM history ORDER BY seq`).all()
        : this.db
            .prepare<[number], HistoryRecord>(
              `SELECT ${HISTORY_COLUMNS} FROM history WHERE utterance_id = ? ORDER BY seq`,
            )
            .all(utteranceId);
    return rows.map(fromRecord);
  }

  /** For export: per utterance, the newest human annotation with a label (and imported ones if asked). */
  exportable(includeImported: boolean): ExportableAnnotation[] {
    return this.db
      .prepare<[number], Omit<ExportableAnnotation, 'unsure'> & { unsure: number }>(
        `SELECT utterance_id AS utteranceId, label_id AS labelId, annotator, origin, valence, arousal, dominance, note,
                unsure, updated_at AS updatedAt FROM (
           SELECT a.*, ROW_NUMBER() OVER (
             PARTITION BY utterance_id ORDER BY (origin = 'human') DESC, updated_at DESC, id DESC) AS rank
           FROM annotations a WHERE label_id IS NOT NULL AND (origin = 'human' OR ?)
         ) WHERE rank = 1 ORDER BY utterance_id`,
      )
      .all(includeImported ? 1 : 0)
      .map((a) => ({ ...a, unsure: a.unsure === 1 }));
  }

  /**
   * Every person's annotation that holds something (a label, a rating, a note or the unsure flag), by
   * utterance and annotator: the rows of an export with one row per annotator.
   */
  byAnnotator(): (Omit<ExportableAnnotation, 'labelId'> & { labelId: number | null })[] {
    return this.db
      .prepare<[], Omit<ExportableAnnotation, 'labelId' | 'unsure'> & { labelId: number | null; unsure: number }>(
        `SELECT utterance_id AS utteranceId, label_id AS labelId, annotator, origin, valence, arousal, dominance, note,
                unsure, updated_at AS updatedAt
         FROM annotations
         WHERE origin = 'human' AND (label_id IS NOT NULL OR valence IS NOT NULL OR arousal IS NOT NULL
                                     OR dominance IS NOT NULL OR note <> '' OR unsure <> 0)
         ORDER BY utterance_id, annotator`,
      )
      .all()
      .map((a) => ({ ...a, unsure: a.unsure === 1 }));
  }
}
