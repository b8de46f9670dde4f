import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import {
  MergeReport,
  type MergeConflict,
  type MergeCounts,
  type MergeRecord,
  type MergeUndoReport,
} from '../../shared/contract';
import { APPLICATION_ID, LATEST_SCHEMA_VERSION, type Db } from '../db/open-database';
import { StudioError } from '../errors';
import type { StudioEvents } from '../events';
import { throwIfCancelled, type JobContext } from '../jobs/job-runner';
import type { AgreementService } from '../agreement/agreement-service';
import type { ProjectStore } from '../project/project-store';
import { HANDOUT_META, projectIdOf } from './handout';

const MAX_CONFLICTS_LISTED = 100;
const MAX_REFUSALS_LISTED = 20;

/** An annotation row as the merge compares and writes it. */
interface AnnRow {
  utteranceId: number;
  origin: 'human' | 'import';
  annotator: string;
  labelId: number | null;
  valence: number | null;
  arousal: number | null;
  dominance: number | null;
  note: string;
  unsure: number;
  updatedAt: string;
}

/** What the copy says about itself (project_meta). */
interface CopyMeta {
  projectId: string | null;
  originId: string | null;
  handoutAt: string;
  historySeq: number;
}

const zero = (): MergeCounts => ({ added: 0, updated: 0, unchanged: 0, refused: 0 });

/** The state of an annotation (no time, no key): equal strings, equal states. */
const stateKey = (a: AnnRow | undefined): string =>
  a ? `${a.labelId}\u0001${a.valence}\u0001${a.arousal}\u0001${a.dominance}\u0001${a.unsure}\u0001${a.note}` : '';

/** An annotation's state and time, as merge_changes keeps it (null: no annotation). */
const snapshot = (a: AnnRow | undefined): string | null =>
  a
    ? JSON.stringify({
        labelId: a.labelId,
        valence: a.valence,
        arousal: a.arousal,
        dominance: a.dominance,
        note: a.note,
        unsure: a.unsure,
        updatedAt: a.updatedAt,
      })
    : null;

const ANN_COLUMNS = `utterance_id AS utteranceId, origin, annotator, label_id AS labelId, valence, arousal, dominance,
  note, unsure, updated_at AS updatedAt`;

/**
 * The newest label-history time per (utterance, annotator) that has no annotation row (cleared), after
 * entry `seq`, leaving out merges since undone: a range scan, the maximum taken here rather than by a
 * sort of the whole history. Where a row exists its `updated_at` is its time (written with its newest
 * history entry).
 */
function historyTimes(db: Db, afterSeq: number, mapUtterance: (id: number) => number | undefined): Map<string, string> {
  const undone = new Set(
    db
      .prepare<[], { id: number }>('SELECT id FROM merges WHERE undone_at IS NOT NULL')
      .all()
      .map((m) => m.id),
  );
  const times = new Map<string, string>();
  for (const h of db
    .prepare<[number], { u: number; a: string; at: string; m: number | null }>(
      `SELECT h.utterance_id AS u, h.annotator AS a, h.at, h.merge_id AS m FROM history h WHERE h.seq > ?
         AND NOT EXISTS (SELECT 1 FROM annotations x
                         WHERE x.utterance_id = h.utterance_id AND x.origin = 'human' AND x.annotator = h.annotator)`,
    )
    .iterate(afterSeq)) {
    if (h.m !== null && undone.has(h.m)) continue;
    const u = mapUtterance(h.u);
    if (u === undefined) continue;
    const key = annKey(u, 'human', h.a);
    const seen = times.get(key);
    if (seen === undefined || h.at > seen) times.set(key, h.at);
  }
  return times;
}

const annKey = (utteranceId: number, origin: string, annotator: string) =>
  `${utteranceId}\u0000${origin}\u0000${annotator}`;

/**
 * Merges a hand-out copy (`handOut`) back into the project, in one transaction, losing and duplicating
 * nothing. Identity: a recording by its content checksum, an utterance by its recording and its span
 * (start, end), an annotation by utterance, origin and annotator; what differs is decided by time:
 * the side whose change is later (its row's time or its newest label-history entry for that
 * utterance and annotator) wins. Both sides changed it since the hand-out: a conflict, resolved the
 * same way and reported. The outcome does not depend on the order copies are merged in, and merging a
 * copy again changes nothing. The copy's label history after the hand-out is appended (tagged with
 * the merge, so a person's Undo does not walk into it); every change is recorded so that `undoMerge`
 * reverts the merge as one step. Services emit the events, after the commit.
 */
export class MergeService {
  constructor(
    private readonly store: ProjectStore,
    private readonly events: StudioEvents,
    /** For the roster's announcement when a merge adds (or its undo removes) annotators. */
    private readonly agreement?: AgreementService,
  ) {}

  /** The merge as a job's body: the copy is checked, then merged in one (synchronous) transaction. */
  async merge(copyPath: string, ctx?: JobContext): Promise<MergeReport> {
    await Promise.resolve();
    return this.mergeNow(copyPath, ctx);
  }

  mergeNow(copyPath: string, ctx?: JobContext): MergeReport {
    const file = path.resolve(copyPath);
    if (file === this.store.file) throw new StudioError('invalid_request', 'A project cannot be merged into itself');
    const copy = openCopy(file);
    try {
      const meta = readCopyMeta(copy);
      const projectId = projectIdOf(this.store);
      if (meta.projectId === projectId)
        throw new StudioError('invalid_request', `${file} is this project (the same project id), not a copy of it`);
      const sameOrigin = meta.originId === projectId;
      this.refuseUnrelated(copy, file, meta, sameOrigin);
      if (ctx) throwIfCancelled(ctx.signal);
      const report = this.store.transaction(() => this.apply(copy, file, meta, sameOrigin, ctx));
      this.announce(report);
      return report;
    } finally {
      copy.close();
    }
  }

  /** A copy with no recording in common was not handed out from here: refused before anything is written. */
  private refuseUnrelated(copy: Db, file: string, meta: CopyMeta, sameOrigin: boolean): void {
    const mine = new Set(
      this.store.db
        .prepare<[], { checksum: string }>('SELECT checksum FROM recordings')
        .all()
        .map((r) => r.checksum),
    );
    const theirs = copy.prepare<[], { checksum: string }>('SELECT checksum FROM recordings').all();
    if (theirs.some((r) => mine.has(r.checksum))) return;
    const origin = sameOrigin
      ? 'it was handed out from this project, but'
      : meta.originId
        ? `it was handed out from another project (${meta.originId}) and`
        : 'it is not a hand-out copy and';
    throw new StudioError(
      'conflict',
      `${file} has no recording in common with this project: ${origin} none of its ${theirs.length} recording(s) ` +
        'is here (compared by content checksum). Nothing was merged.',
    );
  }

  private apply(copy: Db, file: string, meta: CopyMeta, sameOrigin: boolean, ctx?: JobContext): MergeReport {
    const db = this.store.db;
    const now = new Date().toISOString();
    const progress = (done: number, message: string) => ctx?.progress(done, 8, message);
    const report: MergeReport = {
      mergeId: null,
      copy: file,
      sameOrigin,
      recordings: zero(),
      utterances: zero(),
      annotations: zero(),
      history: zero(),
      adjudications: zero(),
      labelsAdded: 0,
      annotatorsAdded: 0,
      conflictsResolved: 0,
      conflicts: [],
      refusals: [],
      nothingChanged: true,
    };
    const refuse = (why: string) => {
      if (report.refusals.length < MAX_REFUSALS_LISTED) report.refusals.push(why);
    };
    const mergeId = Number(
      db
        .prepare(`INSERT INTO merges (at, annotator, copy_project_id, copy_path, report) VALUES (?, ?, ?, ?, '{}')`)
        .run(now, this.store.annotator, meta.projectId ?? '', file).lastInsertRowid,
    );
    const recordChange = db.prepare(
      'INSERT INTO merge_changes (merge_id, kind, target, before, after) VALUES (?, ?, ?, ?, ?)',
    );

    // ---- labels, by name (case folded); one the project lacks is added
    progress(0, 'Labels and annotators');
    const labelIds = new Map<string, number>();
    for (const l of db.prepare<[], { id: number; name: string }>('SELECT id, name FROM labels').all())
      labelIds.set(l.name.toLowerCase(), l.id);
    const labelMap = new Map<number, number>();
    const copyLabels = copy
      .prepare<[], { id: number; name: string; color: string; hotkey: string | null; definition: string }>(
        'SELECT id, name, color, hotkey, definition FROM labels ORDER BY position, id',
      )
      .all();
    for (const l of copyLabels) {
      let id = labelIds.get(l.name.toLowerCase());
      if (id === undefined) {
        const keyFree = l.hotkey !== null && !db.prepare('SELECT 1 FROM labels WHERE hotkey = ?').get(l.hotkey);
        id = Number(
          db
            .prepare(
              `INSERT INTO labels (name, color, hotkey, position, definition)
               VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM labels), ?)`,
            )
            .run(l.name, l.color, keyFree ? l.hotkey : null, l.definition).lastInsertRowid,
        );
        labelIds.set(l.name.toLowerCase(), id);
        recordChange.run(mergeId, 'label', String(id), null, l.name);
        report.labelsAdded++;
      }
      labelMap.set(l.id, id);
    }
    const labelsIdentical = [...labelMap].every(([a, b]) => a === b);
    const mapLabel = (id: number | null): number | null => (id === null ? null : (labelMap.get(id) ?? null));

    // ---- the roster
    const addAnnotator = db.prepare('INSERT OR IGNORE INTO annotators (name, role, added_at) VALUES (?, ?, ?)');
    for (const a of copy
      .prepare<[], { name: string; role: string; addedAt: string }>(
        'SELECT name, role, added_at AS addedAt FROM annotators ORDER BY id',
      )
      .all()) {
      if (addAnnotator.run(a.name, a.role, a.addedAt).changes > 0) {
        recordChange.run(mergeId, 'annotator', a.name, null, a.role);
        report.annotatorsAdded++;
      }
    }

    // ---- recordings, by content checksum
    progress(1, 'Recordings');
    const byChecksum = new Map<string, number>();
    const byPath = new Set<string>();
    for (const r of db
      .prepare<[], { id: number; checksum: string; path: string }>(
        'SELECT id, checksum, path FROM recordings ORDER BY id',
      )
      .all()) {
      if (!byChecksum.has(r.checksum)) byChecksum.set(r.checksum, r.id);
      byPath.add(r.path);
    }
    const recMap = new Map<number, number>();
    const addRecording = db.prepare(
      `INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels, peaks,
         peaks_per_second, imported_at)
       VALUES (@path, @file_name, @size_bytes, @checksum, @format, @duration_s, @sample_rate, @channels, @peaks,
         @peaks_per_second, @imported_at)`,
    );
    for (const r of copy
      .prepare<[], { id: number; checksum: string; path: string; file_name: string }>(
        'SELECT id, checksum, path, file_name FROM recordings ORDER BY id',
      )
      .all()) {
      const mine = byChecksum.get(r.checksum);
      if (mine !== undefined) {
        recMap.set(r.id, mine);
        report.recordings.unchanged++;
      } else if (byPath.has(r.path)) {
        report.recordings.refused++;
        refuse(`recording ${r.file_name}: ${r.path} holds other audio in this project (another checksum)`);
      } else {
        const full = copy.prepare('SELECT * FROM recordings WHERE id = ?').get(r.id) as Record<string, unknown>;
        const id = Number(addRecording.run(full).lastInsertRowid);
        recMap.set(r.id, id);
        byChecksum.set(r.checksum, id);
        byPath.add(r.path);
        report.recordings.added++;
      }
    }

    // ---- utterances, by recording and span
    progress(2, 'Utterances');
    const uttByKey = new Map<string, number>();
    for (const u of db
      .prepare<[], { id: number; r: number; s: number; e: number }>(
        'SELECT id, recording_id AS r, start_s AS s, end_s AS e FROM utterances ORDER BY id',
      )
      .iterate()) {
      const key = `${u.r}|${u.s}|${u.e}`;
      if (!uttByKey.has(key)) uttByKey.set(key, u.id);
    }
    const uttMap = new Map<number, number>();
    const addUtterance = db.prepare(
      `INSERT INTO utterances (recording_id, start_s, end_s, speaker, transcript, removed_at, needs_review, split)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const refusedUtterances = new Set<number>();
    const undoneAdds = new Set(
      db
        .prepare<[], { id: number }>(
          `SELECT u.id FROM utterances u JOIN merge_changes c ON c.kind = 'utterance' AND CAST(c.target AS INTEGER) = u.id
           JOIN merges m ON m.id = c.merge_id AND m.undone_at IS NOT NULL WHERE u.removed_at IS NOT NULL`,
        )
        .all()
        .map((r) => r.id),
    );
    const restore = db.prepare('UPDATE utterances SET removed_at = NULL WHERE id = ?');
    for (const u of copy
      .prepare<
        [],
        {
          id: number;
          r: number;
          s: number;
          e: number;
          speaker: string | null;
          transcript: string;
          removedAt: string | null;
          needsReview: number;
          split: string | null;
        }
      >(
        `SELECT id, recording_id AS r, start_s AS s, end_s AS e, speaker, transcript, removed_at AS removedAt,
                needs_review AS needsReview, split FROM utterances ORDER BY id`,
      )
      .iterate()) {
      const rec = recMap.get(u.r);
      if (rec === undefined) {
        refusedUtterances.add(u.id);
        report.utterances.refused++;
        continue;
      }
      const key = `${rec}|${u.s}|${u.e}`;
      const mine = uttByKey.get(key);
      if (mine !== undefined) {
        uttMap.set(u.id, mine);
        if (u.removedAt === null && undoneAdds.has(mine)) {
          // added by a merge since undone, and merged again: back in the list
          restore.run(mine);
          recordChange.run(mergeId, 'utterance', String(mine), null, null);
          report.utterances.added++;
        } else report.utterances.unchanged++;
        continue;
      }
      const id = Number(
        addUtterance.run(rec, u.s, u.e, u.speaker, u.transcript, u.removedAt, u.needsReview, u.split).lastInsertRowid,
      );
      uttByKey.set(key, id);
      uttMap.set(u.id, id);
      recordChange.run(mergeId, 'utterance', String(id), null, null);
      report.utterances.added++;
    }

    // ---- annotations: the later change wins
    progress(3, 'Reading annotations');
    const mine = new Map<string, AnnRow>();
    for (const a of db.prepare<[], AnnRow>(`SELECT ${ANN_COLUMNS} FROM annotations`).iterate())
      mine.set(annKey(a.utteranceId, a.origin, a.annotator), a);
    // Only the history after the hand-out can differ between the two (before it, both hold the same
    // rows, and a row's time is never older than its own history), so only that part is read.
    const sharedUpTo = sameOrigin ? meta.historySeq : 0;
    const myTimes = historyTimes(db, sharedUpTo, (id) => id);
    const theirs = new Map<string, AnnRow>();
    for (const a of copy.prepare<[], AnnRow>(`SELECT ${ANN_COLUMNS} FROM annotations`).iterate()) {
      const u = uttMap.get(a.utteranceId);
      if (u === undefined) {
        report.annotations.refused++;
        continue;
      }
      theirs.set(annKey(u, a.origin, a.annotator), { ...a, utteranceId: u, labelId: mapLabel(a.labelId) });
    }
    const theirTimes = historyTimes(copy, sharedUpTo, (id) => uttMap.get(id));
    // ---- the label history the copy made after the hand-out (its audit trail), once (after the
    // project's side was read above, so that the times compared are each side's own)
    progress(4, 'History');
    // What this copy's history could already have brought here: a hand-out copy's own entries come only
    // through merges of that copy; another project's copy is compared with everything after the start.
    const known = new Map<string, number>();
    // (utterance, annotator) pairs whose history this merge brings: a conflict on one is decided now;
    // on another it was decided by an earlier merge of this copy, and is not reported again.
    const fresh = new Set<string>();
    const historyKey = (h: {
      at: string;
      annotator: string;
      u: number;
      op: string;
      before: string | null;
      after: string | null;
    }) => `${h.at}\u0000${h.annotator}\u0000${h.u}\u0000${h.op}\u0000${h.before}\u0000${h.after}`;
    for (const h of db
      .prepare<
        [{ after: number; copy: string | null }],
        {
          seq: number;
          at: string;
          annotator: string;
          u: number;
          op: string;
          before: string | null;
          after: string | null;
        }
      >(
        `SELECT seq, at, annotator, utterance_id AS u, op, before, after FROM history
         WHERE seq > @after AND (@copy IS NULL OR merge_id IN (SELECT id FROM merges WHERE copy_project_id = @copy))`,
      )
      .iterate({ after: sharedUpTo, copy: sameOrigin ? (meta.projectId ?? '') : null }))
      known.set(historyKey(h), h.seq);
    const seqMap = new Map<number, number>();
    const batchMap = new Map<number, number>();
    let nextBatch = (db.prepare('SELECT COALESCE(MAX(batch), 0) + 1 AS b FROM history').get() as { b: number }).b;
    const addHistory = db.prepare(
      `INSERT INTO history (at, annotator, utterance_id, op, target_seq, before, after, batch, merge_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const relabel = (json: string | null): string | null => {
      if (json === null || labelsIdentical) return json;
      const s = JSON.parse(json) as { labelId: number | null };
      return JSON.stringify({ ...s, labelId: mapLabel(s.labelId) });
    };
    for (const h of copy
      .prepare<
        [number],
        {
          seq: number;
          at: string;
          annotator: string;
          u: number;
          op: string;
          targetSeq: number | null;
          before: string | null;
          after: string | null;
          batch: number | null;
        }
      >(
        `SELECT seq, at, annotator, utterance_id AS u, op, target_seq AS targetSeq, before, after, batch
         FROM history WHERE seq > ? ORDER BY seq`,
      )
      .iterate(sharedUpTo)) {
      const u = uttMap.get(h.u);
      if (u === undefined) {
        report.history.refused++;
        continue;
      }
      const entry = {
        at: h.at,
        annotator: h.annotator,
        u,
        op: h.op,
        before: relabel(h.before),
        after: relabel(h.after),
      };
      const key = historyKey(entry);
      const seen = known.get(key);
      if (seen !== undefined) {
        seqMap.set(h.seq, seen);
        report.history.unchanged++;
        continue;
      }
      const target =
        h.targetSeq === null ? null : h.targetSeq <= sharedUpTo ? h.targetSeq : (seqMap.get(h.targetSeq) ?? null);
      let batch: number | null = null;
      if (h.batch !== null) {
        batch = batchMap.get(h.batch) ?? nextBatch++;
        batchMap.set(h.batch, batch);
      }
      const seq = Number(
        addHistory.run(entry.at, entry.annotator, u, entry.op, target, entry.before, entry.after, batch, mergeId)
          .lastInsertRowid,
      );
      known.set(key, seq);
      seqMap.set(h.seq, seq);
      fresh.add(annKey(u, 'human', h.annotator));
      report.history.added++;
    }

    progress(5, 'Annotations');
    const upsert = db.prepare(
      `INSERT INTO annotations (utterance_id, origin, annotator, label_id, valence, arousal, dominance, note, unsure, updated_at)
       VALUES (@utteranceId, @origin, @annotator, @labelId, @valence, @arousal, @dominance, @note, @unsure, @updatedAt)
       ON CONFLICT (utterance_id, origin, annotator) DO UPDATE SET
         label_id = excluded.label_id, valence = excluded.valence, arousal = excluded.arousal,
         dominance = excluded.dominance, note = excluded.note, unsure = excluded.unsure, updated_at = excluded.updated_at`,
    );
    const remove = db.prepare('DELETE FROM annotations WHERE utterance_id = ? AND origin = ? AND annotator = ?');
    const whereIs = db.prepare<[number], { recordingName: string; start: number; end: number }>(
      `SELECT r.file_name AS recordingName, u.start_s AS start, u.end_s AS "end"
       FROM utterances u JOIN recordings r ON r.id = u.recording_id WHERE u.id = ?`,
    );
    const keys = new Set([...theirs.keys(), ...theirTimes.keys()]);
    for (const key of keys) {
      const c = theirs.get(key);
      const m = mine.get(key);
      const cAt = c ? c.updatedAt : (theirTimes.get(key) ?? '');
      const mAt = m ? m.updatedAt : (myTimes.get(key) ?? '');
      const cState = stateKey(c);
      const mState = stateKey(m);
      const [utteranceId, origin, annotator] = key.split('\u0000') as [string, 'human' | 'import', string];
      if (cState === mState) {
        // The same state on both sides: it keeps the later time (so the order of merges does not matter).
        if (c && m && c.updatedAt > m.updatedAt) {
          upsert.run(c);
          recordChange.run(
            mergeId,
            'annotation',
            JSON.stringify([+utteranceId, origin, annotator]),
            snapshot(m),
            snapshot(c),
          );
        }
        report.annotations.unchanged++;
        continue;
      }
      const copyWins = cAt > mAt || (cAt === mAt && cState > mState);
      if (mAt > meta.handoutAt && cAt > meta.handoutAt && (copyWins || fresh.has(key))) {
        report.conflictsResolved++;
        if (report.conflicts.length < MAX_CONFLICTS_LISTED) {
          const where = whereIs.get(+utteranceId);
          const conflict: MergeConflict = {
            utteranceId: +utteranceId,
            recordingName: where?.recordingName ?? null,
            start: where?.start ?? null,
            end: where?.end ?? null,
            annotator,
            kept: copyWins ? 'copy' : 'project',
            projectAt: mAt || null,
            copyAt: cAt || null,
          };
          report.conflicts.push(conflict);
        }
      }
      if (!copyWins) {
        report.annotations.unchanged++;
        continue;
      }
      if (c) upsert.run(c);
      else remove.run(+utteranceId, origin, annotator);
      recordChange.run(
        mergeId,
        'annotation',
        JSON.stringify([+utteranceId, origin, annotator]),
        snapshot(m),
        snapshot(c),
      );
      if (m) report.annotations.updated++;
      else report.annotations.added++;
    }

    // ---- adjudications (append-only): each once
    progress(6, 'Adjudications');
    const adjKey = (a: { u: number; l: number; who: string; reason: string; at: string }) =>
      `${a.u}\u0000${a.l}\u0000${a.who}\u0000${a.at}\u0000${a.reason}`;
    type Adj = { u: number; l: number; who: string; reason: string; at: string };
    const ADJ =
      'SELECT utterance_id AS u, label_id AS l, adjudicator AS who, reason, at FROM adjudications ORDER BY id';
    const adjudicated = new Set(db.prepare<[], Adj>(ADJ).all().map(adjKey));
    const addAdjudication = db.prepare(
      'INSERT INTO adjudications (utterance_id, label_id, adjudicator, reason, at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const a of copy.prepare<[], Adj>(ADJ).all()) {
      const u = uttMap.get(a.u);
      const l = labelMap.get(a.l);
      if (u === undefined || l === undefined) {
        report.adjudications.refused++;
        continue;
      }
      const mapped = { ...a, u, l };
      if (adjudicated.has(adjKey(mapped))) {
        report.adjudications.unchanged++;
        continue;
      }
      addAdjudication.run(u, l, a.who, a.reason, a.at);
      adjudicated.add(adjKey(mapped));
      report.adjudications.added++;
    }

    progress(7, 'Recording the merge');
    if (refusedUtterances.size)
      refuse(`${refusedUtterances.size} utterance(s) of refused recordings, with their labels`);
    report.nothingChanged =
      report.recordings.added +
        report.utterances.added +
        report.annotations.added +
        report.annotations.updated +
        report.history.added +
        report.adjudications.added +
        report.labelsAdded +
        report.annotatorsAdded ===
        0 &&
      (db.prepare('SELECT COUNT(*) AS n FROM merge_changes WHERE merge_id = ?').get(mergeId) as { n: number }).n === 0;
    if (report.nothingChanged) {
      // A copy merged again: nothing to remember, nothing to undo.
      db.prepare('DELETE FROM merges WHERE id = ?').run(mergeId);
    } else {
      report.mergeId = mergeId;
      db.prepare('UPDATE merges SET report = ? WHERE id = ?').run(JSON.stringify(report), mergeId);
    }
    progress(8, 'Merged');
    return report;
  }

  /** The one place a merge is announced: after its transaction committed. */
  private announce(r: MergeReport): void {
    if (r.labelsAdded > 0) this.events.emit('labelsChanged', this.store.labels.list());
    if (r.utterances.added > 0) this.events.emit('utterancesChanged', { change: 'added', count: r.utterances.added });
    const labelled = r.annotations.added + r.annotations.updated;
    if (labelled > 0) this.events.emit('utterancesChanged', { change: 'labelled', count: labelled });
    if (r.annotatorsAdded > 0) this.announceRoster();
  }

  private announceRoster(): void {
    if (!this.agreement) return;
    this.events.emit('labellingChanged', {
      settings: this.agreement.settings(),
      roster: this.agreement.listAnnotators(),
    });
  }

  list(): MergeRecord[] {
    return (
      this.store.db
        .prepare<
          [],
          { id: number; at: string; annotator: string; copy: string; undoneAt: string | null; report: string }
        >(`SELECT id, at, annotator, copy_path AS copy, undone_at AS undoneAt, report FROM merges ORDER BY id DESC`)
        .all()
        // Parsed, so a report stored by an older version has the fields added since (as nulls).
        .map((m) => ({ ...m, report: MergeReport.parse(JSON.parse(m.report)) }))
    );
  }

  /**
   * Reverts the newest merge not yet undone, in one transaction: each annotation it changed goes back
   * to its state before the merge, unless it was edited again since (kept, and counted); utterances it
   * added are removed (as a segment delete does: history refers to them); labels and roster entries it
   * added go where nothing uses them. The history it brought stays in the append-only trail, tagged with
   * the merge (which is marked undone), so the copy can be merged again later.
   */
  undoMerge(): MergeUndoReport {
    const { store } = this;
    const db = store.db;
    const result = store.transaction(() => {
      const merge = db
        .prepare<[], { id: number }>('SELECT id FROM merges WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1')
        .get();
      if (!merge) throw new StudioError('not_found', 'There is no merge to undo');
      const now = new Date().toISOString();
      const out: MergeUndoReport = {
        mergeId: merge.id,
        annotationsReverted: 0,
        annotationsKept: 0,
        utterancesRemoved: 0,
        labelsRemoved: 0,
        annotatorsRemoved: 0,
      };
      const changes = db
        .prepare<[number], { kind: string; target: string; before: string | null; after: string | null }>(
          'SELECT kind, target, before, after FROM merge_changes WHERE merge_id = ? ORDER BY id DESC',
        )
        .all(merge.id);
      const current = db.prepare<[number, string, string], AnnRow>(
        `SELECT ${ANN_COLUMNS} FROM annotations WHERE utterance_id = ? AND origin = ? AND annotator = ?`,
      );
      const upsert = db.prepare(
        `INSERT INTO annotations (utterance_id, origin, annotator, label_id, valence, arousal, dominance, note, unsure, updated_at)
         VALUES (@utteranceId, @origin, @annotator, @labelId, @valence, @arousal, @dominance, @note, @unsure, @updatedAt)
         ON CONFLICT (utterance_id, origin, annotator) DO UPDATE SET
           label_id = excluded.label_id, valence = excluded.valence, arousal = excluded.arousal,
           dominance = excluded.dominance, note = excluded.note, unsure = excluded.unsure, updated_at = excluded.updated_at`,
      );
      const remove = db.prepare('DELETE FROM annotations WHERE utterance_id = ? AND origin = ? AND annotator = ?');
      for (const ch of changes) {
        if (ch.kind === 'annotation') {
          const [utteranceId, origin, annotator] = JSON.parse(ch.target) as [number, 'human' | 'import', string];
          if (snapshot(current.get(utteranceId, origin, annotator)) !== ch.after) {
            out.annotationsKept++;
            continue;
          }
          if (ch.before === null) remove.run(utteranceId, origin, annotator);
          else upsert.run({ ...(JSON.parse(ch.before) as object), utteranceId, origin, annotator });
          out.annotationsReverted++;
        } else if (ch.kind === 'utterance') {
          out.utterancesRemoved += db
            .prepare('UPDATE utterances SET removed_at = ? WHERE id = ? AND removed_at IS NULL')
            .run(now, Number(ch.target)).changes;
        } else if (ch.kind === 'label') {
          const id = Number(ch.target);
          const used = db
            .prepare(
              `SELECT (SELECT COUNT(*) FROM annotations WHERE label_id = ?) + (SELECT COUNT(*) FROM adjudications WHERE label_id = ?)
                 + (SELECT COUNT(*) FROM label_examples WHERE label_id = ?) AS n`,
            )
            .get(id, id, id) as { n: number };
          if (used.n === 0) out.labelsRemoved += db.prepare('DELETE FROM labels WHERE id = ?').run(id).changes;
        } else if (ch.kind === 'annotator') {
          const busy = db
            .prepare(
              `SELECT EXISTS (SELECT 1 FROM annotations WHERE annotator = ?) OR EXISTS (SELECT 1 FROM adjudications WHERE adjudicator = ?) AS b`,
            )
            .get(ch.target, ch.target) as { b: number };
          if (!busy.b)
            out.annotatorsRemoved += db.prepare('DELETE FROM annotators WHERE name = ?').run(ch.target).changes;
        }
      }
      db.prepare('UPDATE merges SET undone_at = ? WHERE id = ?').run(now, merge.id);
      return out;
    });
    if (result.labelsRemoved > 0) this.events.emit('labelsChanged', store.labels.list());
    if (result.utterancesRemoved > 0)
      this.events.emit('utterancesChanged', { change: 'segments', count: result.utterancesRemoved });
    if (result.annotationsReverted > 0)
      this.events.emit('utterancesChanged', { change: 'labelled', count: result.annotationsReverted });
    if (result.annotatorsRemoved > 0) this.announceRoster();
    return result;
  }
}

/** Opens a copy read-only, refusing what is not a project of this schema (nothing is written to it). */
function openCopy(file: string): Db {
  if (!fs.existsSync(file)) throw new StudioError('not_found', `Copy not found: ${file}`);
  let db: Db;
  try {
    db = new Database(file, {
      readonly: true,
      fileMustExist: true,
      nativeBinding: process.env.WAVFUSION_SQLITE_BINDING || undefined,
    });
  } catch (err) {
    throw new StudioError('unsupported', `Cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (appId !== APPLICATION_ID)
      throw new StudioError('unsupported', `${file} is not a WavFusion Studio project; nothing was merged`);
    if (version > LATEST_SCHEMA_VERSION)
      throw new StudioError(
        'unsupported',
        `${file} was saved by a newer WavFusion Studio (schema ${version}, this app: ${LATEST_SCHEMA_VERSION}); update the app to merge it`,
      );
    if (version < LATEST_SCHEMA_VERSION)
      throw new StudioError(
        'unsupported',
        `${file} has an older project schema (${version}); open it once with this version of the studio (it upgrades it), then merge it`,
      );
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StudioError) throw err;
    throw new StudioError('unsupported', `Cannot read ${file}: ${(err as Error).message}`);
  }
}

function readCopyMeta(copy: Db): CopyMeta {
  const get = (key: string) =>
    copy.prepare<[string], { value: string }>('SELECT value FROM project_meta WHERE key = ?').get(key)?.value ?? null;
  return {
    projectId: get('project_id'),
    originId: get(HANDOUT_META.origin),
    handoutAt: get(HANDOUT_META.at) ?? '',
    historySeq: Number(get(HANDOUT_META.historySeq) ?? 0),
  };
}
