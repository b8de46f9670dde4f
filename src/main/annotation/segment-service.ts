import {
  SNAP_WINDOW_MS,
  type BoundarySnap,
  type CommitSegmentsRequest,
  type CommitSegmentsResult,
  type ResizeSegmentResult,
  type SegmentEditResult,
  type UtteranceRow,
} from '../../shared/contract';
import { SNAP_ENERGY_FRAME_S, snapIndex } from '../audio/boundary-snap';
import type { DecodedAudioCache } from '../audio/decoded-audio-cache';
import { openSampleReader } from '../audio/sample-reader';
import type { AnnotationRecord, SegmentOp, SegmentSnapshot, SegmentState } from '../db/segments-repository';
import { StudioError, notFound } from '../errors';
import type { StudioEvents } from '../events';
import type { ProjectStore } from '../project/project-store';
import type { AnnotationService } from './annotation-service';

/** What one Undo or Redo did: the row to show, and whether it was a segment step. */
export interface HistoryStep {
  row: UtteranceRow | null;
  segments?: true;
}

/** The shortest segment an edit may leave (s). */
export const MIN_SEGMENT_S = 0.02;

const invalid = (message: string) => new StudioError('invalid_request', message);

/**
 * Segment edits: committing VAD proposals, create, resize, split, merge with the next, delete. Each
 * is one transaction that also appends a snapshot pair (before/after, every annotator's annotations
 * included) to the append-only segment history, so each is one Undo; `undo`/`redo` walk the segment
 * history and the label history together, newest first. Segments are never deleted, only marked
 * removed (the label history refers to them); existing segments are never overwritten by a commit.
 */
export class SegmentService {
  constructor(
    private readonly store: ProjectStore,
    private readonly annotations: AnnotationService,
    private readonly events: StudioEvents,
    /** Where snapping reads audio that is not a PCM WAV from. */
    private readonly audio: DecodedAudioCache,
  ) {}

  /**
   * Commits proposed segments (VAD's, checked again here) as new utterances in one undoable step.
   * A segment that overlaps an existing utterance (or an earlier proposed one) is skipped and reported
   * (`skip`), stops the whole commit (`refuse`), or, with `replace-unlabelled`, replaces existing
   * utterances that nobody has labelled (such as the whole-file utterance a folder import makes; they
   * are reported, and Undo brings them back); a labelled one is never replaced.
   */
  commit(request: CommitSegmentsRequest): CommitSegmentsResult {
    const { store } = this;
    const onOverlap = request.onOverlap ?? 'skip';
    const result = store.transaction(() => {
      const plan: { recordingId: number; start: number; end: number; speaker: string | null }[] = [];
      const replaced = new Set<number>();
      const skipped: CommitSegmentsResult['skipped'] = [];
      for (const p of request.proposals) {
        const rec = store.recordings.byId(p.recordingId);
        if (!rec) throw notFound(`Recording ${p.recordingId}`);
        const sorted = [...p.segments].sort((a, b) => a.start - b.start);
        let lastEnd = -Infinity;
        for (const s of sorted) {
          checkSpan(s.start, s.end, rec.durationS, rec.fileName);
          const overlaps = store.utterances.overlapping(rec.id, s.start, s.end).map((u) => u.id);
          const replaceable =
            onOverlap === 'replace-unlabelled' &&
            overlaps.length > 0 &&
            store.segments.snapshot(overlaps).annotations.length === 0;
          if ((overlaps.length > 0 && !replaceable) || s.start < lastEnd) {
            if (onOverlap === 'refuse')
              throw new StudioError(
                'conflict',
                `A proposed segment ${fmt(s.start)}–${fmt(s.end)} s of ${rec.fileName} overlaps ` +
                  (overlaps.length ? `existing utterance(s) ${overlaps.join(', ')}` : 'another proposed segment') +
                  '; nothing was committed',
              );
            skipped.push({ recordingId: rec.id, start: s.start, end: s.end, overlaps });
            continue;
          }
          if (replaceable) for (const id of overlaps) replaced.add(id);
          lastEnd = s.end;
          plan.push({ recordingId: rec.id, start: s.start, end: s.end, speaker: p.speaker ?? null });
        }
      }
      if (plan.length === 0) return { created: [], skipped, replaced: [] };
      const before = store.segments.snapshot([...replaced]);
      store.segments.restore(
        { segments: before.segments.map((s) => ({ ...s, removed: true })), annotations: [] },
        now(),
      );
      const created = plan.map((s) => store.segments.insert({ ...s, transcript: '', needsReview: false }));
      this.record('create', before, [...replaced, ...created]);
      return { created, skipped, replaced: [...replaced] };
    });
    if (result.created.length > 0) this.changed(result.created.length + result.replaced.length);
    return result;
  }

  /** A new segment by hand; refused where it would overlap an existing one. */
  create(input: {
    recordingId: number;
    start: number;
    end: number;
    speaker?: string | null;
    transcript?: string;
  }): SegmentEditResult {
    const { store } = this;
    const id = store.transaction(() => {
      const rec = store.recordings.byId(input.recordingId);
      if (!rec) throw notFound(`Recording ${input.recordingId}`);
      checkSpan(input.start, input.end, rec.durationS, rec.fileName);
      const overlaps = store.utterances.overlapping(rec.id, input.start, input.end);
      if (overlaps.length)
        throw new StudioError(
          'conflict',
          `${fmt(input.start)}–${fmt(input.end)} s overlaps utterance(s) ${overlaps.map((u) => u.id).join(', ')}`,
        );
      const newId = store.segments.insert({
        recordingId: rec.id,
        start: input.start,
        end: input.end,
        speaker: input.speaker ?? null,
        transcript: input.transcript ?? '',
        needsReview: false,
      });
      this.record('create', { segments: [], annotations: [] }, [newId]);
      return newId;
    });
    this.changed(1);
    return { utteranceIds: [id], removed: [], flagged: [] };
  }

  /**
   * New boundaries for a segment, inside its recording; its labels stay. With `snap`, each edge that
   * moves is snapped first, from the recording's audio (see snapEdges); the answer says where each went.
   */
  async resize(
    utteranceId: number,
    start: number,
    end: number,
    snap: BoundarySnap = 'off',
  ): Promise<ResizeSegmentResult> {
    const snapped = snap === 'off' ? [] : await this.snapEdges(utteranceId, start, end, snap);
    for (const s of snapped) {
      if (s.edge === 'start') start = s.to;
      else end = s.to;
    }
    const result = this.edit('resize', [utteranceId], ([u], rec) => {
      checkSpan(start, end, rec.durationS, rec.fileName);
      this.setSpan(u!, start, end);
      return { utteranceIds: [u!.id], removed: [], flagged: [] };
    });
    return { ...result, start, end, snapped };
  }

  /**
   * Where the edges of a resize go with snapping: each edge that moves goes to the nearest zero
   * crossing or the quietest point (`mode`) within SNAP_WINDOW_MS of where it was put, never back to
   * or past where it was (a nudge is never undone by its snap), never across a neighbouring segment it
   * did not overlap, the file's ends or the segment's minimum length. Nothing qualifying in the window
   * (no sign change in digital silence): the edge stays where it was put (`moved: false`).
   */
  private async snapEdges(
    utteranceId: number,
    start: number,
    end: number,
    mode: Exclude<BoundarySnap, 'off'>,
  ): Promise<ResizeSegmentResult['snapped']> {
    const { store } = this;
    const u = store.utterances.byId(utteranceId);
    if (!u) throw notFound(`Utterance ${utteranceId}`);
    const rec = store.recordings.byId(u.recordingId)!;
    checkSpan(start, end, rec.durationS, rec.fileName);
    const edges = (['start', 'end'] as const).filter((e) => Math.abs((e === 'start' ? start : end) - u[e]) > 1e-9);
    if (edges.length === 0) return [];
    const reader = await openSampleReader(rec, this.audio);
    const sr = reader.sampleRate;
    const window = SNAP_WINDOW_MS / 1000;
    const others = store.utterances.ofRecording(rec.id).filter((o) => o.id !== u.id);
    const out: ResizeSegmentResult['snapped'] = [];
    let span = { start, end };
    for (const edge of edges) {
      const target = span[edge];
      const was = u[edge];
      let lo = Math.max(0, target - window);
      let hi = Math.min(rec.durationS, target + window);
      // Onward only: strictly past where the edge was, in the direction it was moved.
      if (target > was) lo = Math.max(lo, was + 1 / sr);
      else hi = Math.min(hi, was - 1 / sr);
      if (edge === 'start') {
        hi = Math.min(hi, span.end - MIN_SEGMENT_S);
        for (const o of others) if (o.end <= target + 1e-9) lo = Math.max(lo, o.end);
      } else {
        lo = Math.max(lo, span.start + MIN_SEGMENT_S);
        for (const o of others) if (o.start >= target - 1e-9) hi = Math.min(hi, o.start);
      }
      const from = Math.ceil(lo * sr - 1e-6);
      const to = Math.floor(hi * sr + 1e-6);
      const margin = Math.ceil(SNAP_ENERGY_FRAME_S * sr) + 2;
      const samples = to >= from ? await reader.read(from - margin, to + margin) : new Float32Array(0);
      const index = snapIndex(samples, from - margin, sr, mode, target * sr, from, to);
      const at = index === null ? target : index / sr;
      out.push({ edge, requested: target, to: at, moved: index !== null });
      span = { ...span, [edge]: at };
    }
    return out;
  }

  /**
   * Splits a segment at `at` (s, recording time): the first half keeps the id, the second is new;
   * both keep every annotator's annotation and are flagged for review when there were any.
   */
  split(utteranceId: number, at: number): SegmentEditResult {
    return this.edit('split', [utteranceId], ([u], _rec, before) => {
      if (!(at >= u!.start + MIN_SEGMENT_S && at <= u!.end - MIN_SEGMENT_S))
        throw invalid(
          `Split point ${fmt(at)} s must lie inside the segment (${fmt(u!.start)}–${fmt(u!.end)} s), ` +
            `at least ${MIN_SEGMENT_S * 1000} ms from either end`,
        );
      const labelled = before.annotations.length > 0;
      const end = u!.end;
      this.setSpan(u!, u!.start, at, labelled || u!.needsReview);
      const second = this.store.segments.insert({
        recordingId: u!.recordingId,
        start: at,
        end,
        speaker: u!.speaker,
        transcript: u!.transcript,
        needsReview: labelled || u!.needsReview,
      });
      this.store.utterances.copySplit(u!.id, second);
      this.store.segments.restore(
        { segments: [], annotations: before.annotations.map((a) => ({ ...a, utteranceId: second })) },
        now(),
      );
      return { utteranceIds: [u!.id, second], removed: [], flagged: labelled ? [u!.id, second] : [] };
    });
  }

  /**
   * Merges a segment with the next one of its recording: the first grows to the second's end and the
   * second is removed. Per annotator, an agreeing label is kept; where the two differ (or only one has
   * one), the first's is kept (or the second's taken) and the merged segment is flagged for review.
   */
  mergeWithNext(utteranceId: number): SegmentEditResult {
    const first = this.store.utterances.byId(utteranceId);
    if (!first) throw notFound(`Utterance ${utteranceId}`);
    const all = this.store.utterances.ofRecording(first.recordingId);
    const next = all[all.findIndex((u) => u.id === first.id) + 1];
    if (!next) throw invalid(`Utterance ${utteranceId} is the last segment of its recording: nothing to merge with`);
    return this.edit('merge', [first.id, next.id], ([a, b], _rec, before) => {
      const key = (x: AnnotationRecord) => `${x.origin}\u0000${x.annotator}`;
      const ofA = new Map(before.annotations.filter((x) => x.utteranceId === a!.id).map((x) => [key(x), x]));
      const ofB = new Map(before.annotations.filter((x) => x.utteranceId === b!.id).map((x) => [key(x), x]));
      let conflict = false;
      const merged: AnnotationRecord[] = [];
      for (const k of new Set([...ofA.keys(), ...ofB.keys()])) {
        const x = ofA.get(k);
        const y = ofB.get(k);
        if (!x || !y || x.labelId !== y.labelId) conflict = true;
        merged.push({ ...(x ?? y)!, utteranceId: a!.id });
      }
      const flag = conflict || a!.needsReview || b!.needsReview;
      this.store.segments.restore(
        {
          segments: [
            {
              ...a!,
              end: Math.max(a!.end, b!.end),
              transcript: [a!.transcript, b!.transcript].filter(Boolean).join(' '),
              needsReview: flag,
            },
            { ...b!, removed: true },
          ],
          annotations: merged,
        },
        now(),
      );
      return { utteranceIds: [a!.id], removed: [b!.id], flagged: conflict ? [a!.id] : [] };
    });
  }

  /**
   * The transcript and/or the speaker edited in place (a field left out stays; a blank speaker is none).
   * One undoable step in the segment history; its snapshots hold only the text, so Undo never touches
   * the span or anyone's labels. Announced as the row's change; nothing changed, nothing recorded.
   */
  setText(utteranceId: number, change: { transcript?: string; speaker?: string | null }): { row: UtteranceRow } {
    const { store } = this;
    const changed = store.transaction(() => {
      const before = store.segments.snapshot([utteranceId], { textOnly: true });
      const u = before.segments.find((s) => !s.removed);
      if (!u) throw notFound(`Utterance ${utteranceId}`);
      const transcript =
        change.transcript === undefined ? u.transcript : change.transcript.replace(/\r\n?/g, '\n').trim();
      const speaker = change.speaker === undefined ? u.speaker : change.speaker?.trim() || null;
      if (transcript === u.transcript && speaker === u.speaker) return false;
      store.utterances.updateText(u.id, speaker, transcript);
      store.segments.append({
        at: now(),
        annotator: store.annotator,
        op: 'text',
        targetSeq: null,
        labelSeq: store.segments.labelSeq(),
        before,
        after: store.segments.snapshot([u.id], { textOnly: true }),
      });
      return true;
    });
    const row = store.row(utteranceId);
    if (!row) throw notFound(`Utterance ${utteranceId}`);
    if (changed) this.events.emit('annotationChanged', { row });
    return { row };
  }

  /** Removes a segment (its annotations go with it; Undo brings both back). */
  delete(utteranceId: number): SegmentEditResult {
    return this.edit('delete', [utteranceId], ([u]) => {
      this.store.segments.restore({ segments: [{ ...u!, removed: true }], annotations: [] }, now());
      return { utteranceIds: [], removed: [u!.id], flagged: [] };
    });
  }

  /**
   * Undo across both histories: whichever of the newest segment edit and label edit is newer. The
   * row is the first segment the step left live (null when none did, e.g. undoing a create, or when
   * there was nothing to undo); `segments` says a segment step was taken.
   */
  undo(): HistoryStep {
    const { store } = this;
    const annotator = store.annotator;
    const seg = store.segments.nextUndo(annotator);
    const label = store.annotations.nextUndo(annotator);
    if (!seg || (label && label.seq > seg.labelSeq)) return { row: this.annotations.undo() };
    return this.step('undo');
  }

  redo(): HistoryStep {
    const { store } = this;
    const annotator = store.annotator;
    const seg = store.segments.nextRedo(annotator);
    const label = store.annotations.nextRedo(annotator);
    // A label undo followed by a segment edit can no longer be redone, nor the other way round.
    const lastSegEdit = store.segments.lastEdit(annotator);
    const labelOk = label && !(lastSegEdit && lastSegEdit.labelSeq >= label.seq);
    const segOk = seg && !store.segments.labelEditAfter(annotator, seg.labelSeq);
    if (segOk && (!labelOk || seg.labelSeq >= label.seq)) return this.step('redo');
    return { row: labelOk ? this.annotations.redo() : null };
  }

  private step(op: 'undo' | 'redo'): HistoryStep {
    const { store } = this;
    const annotator = store.annotator;
    const ids = store.transaction(() => {
      const target = op === 'undo' ? store.segments.nextUndo(annotator) : store.segments.nextRedo(annotator);
      if (!target) return null;
      const to = target.before;
      const ids = to.segments.map((s) => s.id);
      const before = store.segments.snapshot(ids, { textOnly: to.textOnly });
      store.segments.restore(to, now());
      store.segments.append({
        at: now(),
        annotator,
        op,
        targetSeq: target.seq,
        labelSeq: store.segments.labelSeq(),
        before,
        after: to,
      });
      return to.segments.filter((s) => !s.removed).map((s) => s.id);
    });
    if (ids === null) return { row: null };
    this.changed(ids.length);
    return { row: ids.length ? (store.row(ids[0]!) ?? null) : null, segments: true };
  }

  /** Runs one edit of live segments `ids` in a transaction and records it. */
  private edit(
    op: SegmentOp,
    ids: number[],
    fn: (
      segments: SegmentState[],
      recording: { durationS: number; fileName: string },
      before: SegmentSnapshot,
    ) => SegmentEditResult,
  ): SegmentEditResult {
    const { store } = this;
    const result = store.transaction(() => {
      const before = store.segments.snapshot(ids);
      const segments = ids.map((id) => before.segments.find((s) => s.id === id && !s.removed));
      if (segments.some((s) => !s)) throw notFound(`Utterance ${ids.find((id, i) => !segments[i])}`);
      const rec = store.recordings.byId(segments[0]!.recordingId)!;
      const out = fn(segments as SegmentState[], rec, before);
      this.record(op, before, [...new Set([...ids, ...out.utteranceIds])]);
      return out;
    });
    this.changed(result.utteranceIds.length + result.removed.length);
    return result;
  }

  private setSpan(u: SegmentState, start: number, end: number, needsReview = u.needsReview): void {
    const snap = this.store.segments.snapshot([u.id]);
    this.store.segments.restore({ ...snap, segments: [{ ...u, start, end, needsReview }] }, now());
  }

  /** Appends the edit (before, and the touched segments as they are now) to the segment history. */
  private record(op: SegmentOp, before: SegmentSnapshot, ids: number[]): void {
    const { store } = this;
    const after = store.segments.snapshot(ids);
    // Segments new in this edit: before it they were (as far as Undo goes) removed and unlabelled.
    const known = new Set(before.segments.map((s) => s.id));
    const fresh = after.segments.filter((s) => !known.has(s.id)).map((s) => ({ ...s, removed: true }));
    store.segments.append({
      at: now(),
      annotator: store.annotator,
      op,
      targetSeq: null,
      labelSeq: store.segments.labelSeq(),
      before: { segments: [...before.segments, ...fresh], annotations: before.annotations },
      after,
    });
  }

  private changed(count: number): void {
    this.events.emit('utterancesChanged', { change: 'segments', count });
  }
}

function checkSpan(start: number, end: number, duration: number, name: string): void {
  if (!(end - start >= MIN_SEGMENT_S))
    throw invalid(
      `A segment must end at least ${MIN_SEGMENT_S * 1000} ms after it starts (got ${fmt(start)}–${fmt(end)} s)`,
    );
  if (start < 0 || end > duration + 1e-6)
    throw invalid(`${fmt(start)}–${fmt(end)} s lies outside ${name} (0–${fmt(duration)} s)`);
}

const fmt = (s: number) => s.toFixed(3);
const now = () => new Date().toISOString();
