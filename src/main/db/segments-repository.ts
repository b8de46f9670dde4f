import type { Db } from './open-database';

/** One segment as a segment edit saw it (removed ones included). */
export interface SegmentState {
  id: number;
  recordingId: number;
  start: number;
  end: number;
  speaker: string | null;
  transcript: string;
  removed: boolean;
  needsReview: boolean;
}

/** One annotation row of any origin and annotator, as it was. */
export interface AnnotationRecord {
  utteranceId: number;
  origin: 'human' | 'import';
  annotator: string;
  labelId: number | null;
  valence: number | null;
  arousal: number | null;
  dominance: number | null;
  note: string;
  /** Absent in snapshots written before the unsure flag (migration 009): not unsure. */
  unsure?: boolean;
  updatedAt: string;
}

/** The segments an edit touched and all their annotations, before or after it. */
export interface SegmentSnapshot {
  segments: SegmentState[];
  annotations: AnnotationRecord[];
  /**
   * A transcript/speaker edit's snapshot: restoring it sets only the segments' transcript and speaker,
   * leaving their spans and every annotator's annotations as they are (`annotations` is empty).
   */
  textOnly?: true;
}

/** `text`: the transcript or speaker edited in place (migration 009). */
export type SegmentOp = 'create' | 'resize' | 'split' | 'merge' | 'delete' | 'text';

export interface SegmentHistoryEntry {
  seq: number;
  at: string;
  annotator: string;
  op: SegmentOp | 'undo' | 'redo';
  targetSeq: number | null;
  labelSeq: number;
  before: SegmentSnapshot;
  after: SegmentSnapshot;
}

interface HistoryRecord extends Omit<SegmentHistoryEntry, 'before' | 'after'> {
  before: string;
  after: string;
}

const COLUMNS = `seq, at, annotator, op, target_seq AS targetSeq, label_seq AS labelSeq, before, after`;
const fromRecord = (r: HistoryRecord): SegmentHistoryEntry => ({
  ...r,
  before: JSON.parse(r.before) as SegmentSnapshot,
  after: JSON.parse(r.after) as SegmentSnapshot,
});

/**
 * Segment rows with their removed/review state, snapshots of segments with every annotator's
 * annotations, and the append-only segment history (migration 006).
 */
export class SegmentsRepository {
  constructor(private readonly db: Db) {}

  /** The segments (removed ones too) and all their annotations, as they are now (`textOnly`: no annotations). */
  snapshot(ids: readonly number[], options: { textOnly?: boolean } = {}): SegmentSnapshot {
    if (options.textOnly) return { ...this.snapshot(ids), annotations: [], textOnly: true };
    if (ids.length === 0) return { segments: [], annotations: [] };
    const list = ids.map(Number).join(', ');
    const segments = this.db
      .prepare<[], Omit<SegmentState, 'removed' | 'needsReview'> & { removed: number; needsReview: number }>(
        `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript,
                removed_at IS NOT NULL AS removed, needs_review AS needsReview
         FROM utterances WHERE id IN (${list}) ORDER BY id`,
      )
      .all()
      .map((s) => ({ ...s, removed: s.removed === 1, needsReview: s.needsReview === 1 }));
    const annotations = this.db
      .prepare<[], Omit<AnnotationRecord, 'unsure'> & { unsure: number }>(
        `SELECT utterance_id AS utteranceId, origin, annotator, label_id AS labelId, valence, arousal, dominance,
                note, unsure, updated_at AS updatedAt
         FROM annotations WHERE utterance_id IN (${list}) ORDER BY id`,
      )
      .all()
      .map((a) => ({ ...a, unsure: a.unsure === 1 }));
    return { segments, annotations };
  }

  /** Makes the database hold exactly `snap` for its segments: their rows and all their annotations. */
  restore(snap: SegmentSnapshot, at: string): void {
    if (snap.textOnly) {
      const setText = this.db.prepare('UPDATE utterances SET speaker = ?, transcript = ? WHERE id = ?');
      for (const s of snap.segments) setText.run(s.speaker, s.transcript, s.id);
      return;
    }
    const upsert = this.db.prepare(
      `INSERT INTO utterances (id, recording_id, start_s, end_s, speaker, transcript, removed_at, needs_review)
       VALUES (@id, @recordingId, @start, @end, @speaker, @transcript, @removedAt, @needsReview)
       ON CONFLICT (id) DO UPDATE SET recording_id = excluded.recording_id, start_s = excluded.start_s,
         end_s = excluded.end_s, speaker = excluded.speaker, transcript = excluded.transcript,
         removed_at = CASE WHEN excluded.removed_at IS NULL THEN NULL ELSE COALESCE(utterances.removed_at, excluded.removed_at) END,
         needs_review = excluded.needs_review`,
    );
    const clear = this.db.prepare('DELETE FROM annotations WHERE utterance_id = ?');
    const insert = this.db.prepare(
      `INSERT INTO annotations (utterance_id, origin, annotator, label_id, valence, arousal, dominance, note, unsure, updated_at)
       VALUES (@utteranceId, @origin, @annotator, @labelId, @valence, @arousal, @dominance, @note, @unsure, @updatedAt)`,
    );
    for (const s of snap.segments) {
      upsert.run({ ...s, removedAt: s.removed ? at : null, needsReview: s.needsReview ? 1 : 0 });
      clear.run(s.id);
    }
    for (const a of snap.annotations) insert.run({ ...a, unsure: a.unsure ? 1 : 0 });
  }

  insert(s: Omit<SegmentState, 'id' | 'removed'>): number {
    const info = this.db
      .prepare(
        `INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript, needs_review)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(s.recordingId, s.start, s.end, s.speaker, s.transcript, s.needsReview ? 1 : 0);
    return Number(info.lastInsertRowid);
  }

  /** The newest label-history seq (0 when none): a segment edit's place among label edits. */
  labelSeq(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM history').get() as { s: number }).s;
  }

  append(entry: Omit<SegmentHistoryEntry, 'seq'>): number {
    const info = this.db
      .prepare(
        `INSERT INTO segment_history (at, annotator, op, target_seq, label_seq, before, after)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.at,
        entry.annotator,
        entry.op,
        entry.targetSeq,
        entry.labelSeq,
        JSON.stringify(entry.before),
        JSON.stringify(entry.after),
      );
    return Number(info.lastInsertRowid);
  }

  /** The newest edit or redo of this annotator no undo has reverted. */
  nextUndo(annotator: string): SegmentHistoryEntry | undefined {
    const r = this.db
      .prepare<[string], HistoryRecord>(
        `SELECT ${COLUMNS} FROM segment_history x
         WHERE x.annotator = ? AND x.op NOT IN ('undo')
           AND NOT EXISTS (SELECT 1 FROM segment_history u WHERE u.op = 'undo' AND u.target_seq = x.seq)
         ORDER BY x.seq DESC LIMIT 1`,
      )
      .get(annotator);
    return r && fromRecord(r);
  }

  /** The newest undo not yet redone, provided no segment edit came after it. */
  nextRedo(annotator: string): SegmentHistoryEntry | undefined {
    const r = this.db
      .prepare<[string], HistoryRecord>(
        `SELECT ${COLUMNS} FROM segment_history u
         WHERE u.annotator = ? AND u.op = 'undo'
           AND NOT EXISTS (SELECT 1 FROM segment_history r WHERE r.op = 'redo' AND r.target_seq = u.seq)
           AND NOT EXISTS (SELECT 1 FROM segment_history e WHERE e.annotator = u.annotator
                             AND e.op NOT IN ('undo', 'redo') AND e.seq > u.seq)
         ORDER BY u.seq DESC LIMIT 1`,
      )
      .get(annotator);
    return r && fromRecord(r);
  }

  /** The newest segment edit (not undo/redo) of this annotator: a label redo after it is void. */
  lastEdit(annotator: string): SegmentHistoryEntry | undefined {
    const r = this.db
      .prepare<[string], HistoryRecord>(
        `SELECT ${COLUMNS} FROM segment_history WHERE annotator = ? AND op NOT IN ('undo', 'redo')
         ORDER BY seq DESC LIMIT 1`,
      )
      .get(annotator);
    return r && fromRecord(r);
  }

  /** Whether this annotator made a label edit after label-history seq `seq`. */
  labelEditAfter(annotator: string, seq: number): boolean {
    return (
      this.db
        .prepare<[string, number], { n: number }>(
          `SELECT COUNT(*) AS n FROM history WHERE annotator = ? AND op = 'edit' AND seq > ?`,
        )
        .get(annotator, seq)!.n > 0
    );
  }

  history(): SegmentHistoryEntry[] {
    return this.db
      .prepare<[], HistoryRecord>(`SELECT ${COLUMNS} FROM segment_history ORDER BY seq`)
      .all()
      .map(fromRecord);
  }
}
