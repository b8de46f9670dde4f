import {
  BoundarySnap as BoundarySnapSchema,
  SNAP_WINDOW_MS,
  VadParams as VadParamsSchema,
  type BoundarySnap,
  type CommitSegmentsRequest,
  type ProposedSegment,
  type UtteranceRow,
  type VadParams,
} from '../../../../shared/contract';
import { formatSeconds } from '../util/format';
import { JobRun } from './job-run.svelte';
import type { PlayerState, ProposedRegion } from './player.svelte';
import type { StudioState } from './studio.svelte';

/** The shortest segment the core accepts (s); edits that would go below it are refused here first. */
const MIN_SEGMENT_S = 0.02;
/** Nudges pressed within this long of each other are one edit (one Undo). */
const NUDGE_SETTLE_MS = 400;
const EPSILON = 1e-6;
/** Where the snapping choice is kept in the browser, like the theme. */
const SNAP_KEY = 'wavfusion.segments.snap';

/** How each snap mode is named in the UI and in what the edits say. */
export const SNAP_NAMES: Record<BoundarySnap, string> = {
  off: 'off',
  'zero-crossing': 'zero crossing',
  'low-energy': 'low energy',
};

/** VAD's proposal for the recording in view, as it is being reviewed. */
export interface Proposal {
  recordingId: number;
  recordingName: string;
  speaker: string | null;
  /** What was scored (recording time). */
  range: { start: number; end: number };
  segments: ProposedSegment[];
  note: string;
}

export type OverlapChoice = NonNullable<CommitSegmentsRequest['onOverlap']>;

/**
 * Segments in the waveform: running VAD over the recording in view and reviewing its proposal
 * (commit or discard), and the segment edits (create, resize, nudge, split, merge, delete) of the
 * selected utterance. Every change goes through the core's segment operations, in order with the
 * label edits (StudioState.editSegments); the list and the waveform follow the core's events.
 */
export class SegmentsState {
  params = $state<VadParams>(VadParamsSchema.parse({}));
  readonly run: JobRun<'segment'>;
  proposal = $state.raw<Proposal | null>(null);
  onOverlap = $state<OverlapChoice>('replace-unlabelled');
  committing = $state(false);
  /** The edge of the selected segment the nudge keys move. */
  boundary = $state<'start' | 'end'>('start');
  /**
   * Where a dragged or nudged edge snaps (the core finds the point in the audio, within
   * SNAP_WINDOW_MS): off by default, remembered in the browser.
   */
  snap = $state<BoundarySnap>(readSnap());

  /** A nudge being made (not sent yet): the selected segment's span as it will be. */
  private draft: { id: number; start: number; end: number } | null = null;
  private draftTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly studio: StudioState,
    private readonly player: PlayerState,
  ) {
    this.run = new JobRun(studio.jobs, 'segment');
  }

  /** The proposal's segments as the waveform draws them: those a commit would skip say why. */
  proposedRegions = $derived.by((): ProposedRegion[] => {
    const p = this.proposal;
    // Drawn over its own recording only (another utterance may be selected meanwhile).
    if (!p || this.studio.selectedRow?.recordingId !== p.recordingId) return [];
    return p.segments.map((s) => ({ start: s.start, end: s.end, skipped: this.skipReason(s) }));
  });

  /** How the proposal's overlaps with existing utterances would be resolved by a commit. */
  overlapSummary = $derived.by(() => {
    const p = this.proposal;
    // Plain records, made afresh on each run of the derivation (not reactive state).
    const replaced: Record<number, true> = {};
    const overlapping: Record<number, true> = {};
    let skipped = 0;
    for (const s of p?.segments ?? []) {
      for (const id of s.overlaps) overlapping[id] = true;
      if (s.overlaps.length === 0) continue;
      const labelled = s.overlaps.filter((id) => this.isLabelled(id));
      if (this.onOverlap === 'replace-unlabelled' && labelled.length === 0) {
        for (const id of s.overlaps) replaced[id] = true;
      } else skipped++;
    }
    return { overlapping: Object.keys(overlapping).length, replaced: Object.keys(replaced).length, skipped };
  });

  /** Selects another utterance (a neighbour's region clicked), sending a nudge still being made. */
  select(id: number): void {
    void this.flushNudge();
    this.studio.select(id);
  }

  /** Chooses how moved edges snap (remembered); says so. */
  setSnap(mode: BoundarySnap): void {
    this.snap = mode;
    try {
      localStorage.setItem(SNAP_KEY, mode);
    } catch {
      // Storage may be unavailable; the choice still holds for this page.
    }
    this.studio.showNotice(
      mode === 'off'
        ? 'Moved edges stay where they are put'
        : `Moved edges snap to the nearest ${SNAP_NAMES[mode]} within ${SNAP_WINDOW_MS} ms`,
    );
  }

  resetParams(): void {
    this.params = VadParamsSchema.parse({});
  }

  /**
   * Runs VAD over what the waveform shows (the selected utterance's clip: for an imported whole
   * file, the whole recording) and shows the proposal; nothing is changed until it is committed.
   */
  async findSpeech(): Promise<void> {
    const row = this.studio.selectedRow;
    const waveform = this.studio.waveform;
    if (!row || !waveform || waveform.utteranceId !== row.id) return;
    this.discard();
    const range = { start: waveform.clipStart, end: waveform.clipEnd };
    const params = $state.snapshot(this.params);
    await this.run.start(() =>
      this.studio.client.startSegmentation({ scope: { recordingIds: [row.recordingId], range }, params }),
    );
    const result = this.run.result;
    if (this.run.phase === 'cancelled') this.studio.showNotice('Finding speech cancelled');
    else if (this.run.error) this.studio.showError(`Finding speech failed: ${this.run.error}`);
    else if (result) {
      const failure = result.failures[0];
      const found = result.proposals.find((p) => p.recordingId === row.recordingId);
      if (failure) this.studio.showError(`Finding speech failed: ${failure.reason}`);
      else if (found) {
        this.proposal = {
          recordingId: found.recordingId,
          recordingName: found.recordingName,
          speaker: row.speaker,
          range,
          segments: found.segments,
          note: found.note,
        };
        // Replacing is only offered for what nobody labelled; where nothing would be replaced, skip.
        this.onOverlap = 'replace-unlabelled';
        if (found.segments.length === 0) this.studio.showNotice(`No speech found: ${found.note}`);
      }
    }
  }

  discard(): void {
    this.proposal = null;
  }

  /** Commits the proposal in one undoable step, then says what it did to existing utterances. */
  async commit(): Promise<void> {
    const p = this.proposal;
    if (!p || p.segments.length === 0 || this.committing) return;
    this.committing = true;
    try {
      const result = await this.studio.editSegments('commit the segments', () =>
        this.studio.client.commitSegments({
          proposals: [
            {
              recordingId: p.recordingId,
              segments: p.segments.map(({ start, end }) => ({ start, end })),
              speaker: p.speaker,
            },
          ],
          onOverlap: this.onOverlap,
        }),
      );
      if (!result) return;
      this.proposal = null;
      const parts = [`Committed ${result.created.length} segment(s) of ${p.recordingName}`];
      if (result.replaced.length) parts.push(`replaced ${result.replaced.length} unlabelled utterance(s)`);
      if (result.skipped.length)
        parts.push(`skipped ${result.skipped.length} that overlap utterances kept as they were`);
      this.studio.showNotice(`${parts.join('; ')} (Ctrl+Z undoes it)`);
      if (result.created[0] !== undefined) this.studio.select(result.created[0]);
    } finally {
      this.committing = false;
    }
  }

  // ---------- edits of the selected segment ----------

  /** A new segment (dragged across the waveform); refused where it would overlap one. */
  async create(recordingId: number, start: number, end: number): Promise<void> {
    if (end - start < MIN_SEGMENT_S) return;
    const overlap = this.neighbours().find((r) => r.start < end - EPSILON && r.end > start + EPSILON);
    if (overlap) {
      this.studio.showNotice('A new segment cannot overlap another: drag across a gap');
      return;
    }
    const speaker = this.studio.selectedRow?.speaker ?? null;
    const result = await this.studio.editSegments('create the segment', () =>
      this.studio.client.createSegment({ recordingId, start, end, speaker }),
    );
    if (result?.utteranceIds[0] !== undefined) {
      this.studio.select(result.utteranceIds[0]);
      this.studio.showNotice(`Created a segment ${formatSeconds(start)}–${formatSeconds(end)} s`);
    }
  }

  /** New edges for a segment (an edge dragged), kept clear of its neighbours. */
  async resize(utteranceId: number, start: number, end: number, side: 'start' | 'end'): Promise<void> {
    this.boundary = side;
    const row = this.studio.rowById(utteranceId);
    const span = this.clamp(utteranceId, start, end);
    await this.sendResize(utteranceId, span.start, span.end, row);
  }

  chooseBoundary(side?: 'start' | 'end'): void {
    this.boundary = side ?? (this.boundary === 'start' ? 'end' : 'start');
    this.player.setBoundary(this.boundary);
  }

  /** Moves the chosen edge of the selected segment by `ms`; presses close together are one edit. */
  nudge(ms: number): void {
    const row = this.studio.selectedRow;
    if (!row || this.proposal) return;
    const base = this.draft?.id === row.id ? this.draft : { id: row.id, start: row.start, end: row.end };
    const delta = ms / 1000;
    let { start, end } = base;
    if (this.boundary === 'start') start = Math.min(end - MIN_SEGMENT_S, Math.max(0, start + delta));
    else end = Math.max(start + MIN_SEGMENT_S, end + delta);
    const span = this.clamp(row.id, start, end);
    if (span.start === base.start && span.end === base.end) {
      this.studio.showNotice(`The ${this.boundary} cannot move further that way`);
      return;
    }
    this.draft = { id: row.id, ...span };
    this.player.previewSpan(span.start, span.end);
    if (this.draftTimer) clearTimeout(this.draftTimer);
    this.draftTimer = setTimeout(() => void this.flushNudge(), NUDGE_SETTLE_MS);
  }

  /** Sends a nudge still being made (before another edit, or when the selection moves). */
  async flushNudge(): Promise<void> {
    if (this.draftTimer) clearTimeout(this.draftTimer);
    this.draftTimer = null;
    const draft = this.draft;
    this.draft = null;
    if (!draft) return;
    await this.sendResize(draft.id, draft.start, draft.end, this.studio.rowById(draft.id));
  }

  /** Splits the selected segment at the playback cursor (both halves keep the labels, flagged). */
  async split(): Promise<void> {
    await this.flushNudge();
    const row = this.studio.selectedRow;
    if (!row || this.proposal) return;
    const at = this.player.time;
    if (!(at >= row.start + MIN_SEGMENT_S && at <= row.end - MIN_SEGMENT_S)) {
      this.studio.showNotice('Put the cursor inside the segment (click the waveform) to split it there');
      return;
    }
    const result = await this.studio.editSegments('split the segment', () =>
      this.studio.client.splitSegment({ utteranceId: row.id, at }),
    );
    if (result)
      this.studio.showNotice(
        `Split at ${formatSeconds(at)} s` +
          (result.flagged.length ? ': both halves keep the labels, flagged for review' : ''),
      );
  }

  /** Merges the selected segment with the next one of its recording. */
  async mergeWithNext(): Promise<void> {
    await this.flushNudge();
    const row = this.studio.selectedRow;
    if (!row || this.proposal) return;
    const result = await this.studio.editSegments('merge the segments', () =>
      this.studio.client.mergeSegmentWithNext({ utteranceId: row.id }),
    );
    if (result)
      this.studio.showNotice(
        result.flagged.length ? 'Merged: the labels differed, so the segment is flagged for review' : 'Merged',
      );
  }

  /** Deletes the selected segment (its labels go with it; Undo brings both back) and selects the next. */
  async remove(): Promise<void> {
    await this.flushNudge();
    const row = this.studio.selectedRow;
    if (!row || this.proposal) return;
    const index = this.studio.selectedIndex;
    const after = this.studio.list.rowAt(index + 1) ?? this.studio.list.rowAt(index - 1) ?? null;
    const result = await this.studio.editSegments('delete the segment', () =>
      this.studio.client.deleteSegment({ utteranceId: row.id }),
    );
    if (!result) return;
    if (after) this.studio.select(after.id);
    this.studio.showNotice(
      `Deleted the segment ${formatSeconds(row.start)}–${formatSeconds(row.end)} s (Ctrl+Z brings it back)`,
    );
  }

  /** Selects the previous (-1) or next (1) segment of the selected one's recording, in time. */
  jumpSegment(direction: -1 | 1): void {
    const row = this.studio.selectedRow;
    if (!row) return;
    const segments = this.ofRecording(row.recordingId);
    const index = segments.findIndex((r) => r.id === row.id);
    const to = segments[index + direction];
    if (to) this.studio.select(to.id);
    else this.studio.showNotice(direction > 0 ? 'No later segment in this recording' : 'No earlier segment');
  }

  /**
   * Moves the cursor to the start of the previous or next gap between listed segments of this
   * recording (where speech could be missing); when that lies outside the clip, selects the segment
   * the gap follows.
   */
  jumpGap(direction: -1 | 1): void {
    const row = this.studio.selectedRow;
    if (!row) return;
    const segments = this.ofRecording(row.recordingId);
    // A gap starts where a segment ends and the next one (if any) has not started yet.
    const gaps = segments
      .filter((s, i) => {
        const next = segments[i + 1];
        return !next || next.start > s.end + EPSILON;
      })
      .map((s) => ({ at: s.end, before: s }));
    const now = this.player.time;
    const gap =
      direction > 0 ? gaps.find((g) => g.at > now + 0.005) : [...gaps].reverse().find((g) => g.at < now - 0.005);
    if (!gap) {
      this.studio.showNotice(direction > 0 ? 'No later gap in this recording' : 'No earlier gap');
      return;
    }
    const waveform = this.studio.waveform;
    if (!waveform || gap.at > waveform.clipEnd || gap.at < waveform.clipStart) this.studio.select(gap.before.id);
    this.player.seekTo(gap.at);
  }

  // ---------- helpers ----------

  private async sendResize(id: number, start: number, end: number, row: UtteranceRow | null): Promise<void> {
    if (row && Math.abs(row.start - start) < EPSILON && Math.abs(row.end - end) < EPSILON) return;
    const snap = this.snap;
    const result = await this.studio.editSegments(
      'resize the segment',
      () => this.studio.client.resizeSegment({ utteranceId: id, start, end, snap }),
      row ? { ...row, start, end } : undefined,
    );
    if (result) {
      // Snapped: the list shows the span the core stored (the clip reloads on the core's event).
      if (row && (result.start !== start || result.end !== end))
        this.studio.list.replaceRow({ ...row, start: result.start, end: result.end });
      const how = result.snapped.map((s) =>
        s.moved
          ? `${s.edge} snapped to ${SNAP_NAMES[snap]} (${formatMs(s.to - s.requested)})`
          : `no ${SNAP_NAMES[snap]} within ${SNAP_WINDOW_MS} ms: ${s.edge} left as put`,
      );
      this.studio.showNotice(
        `Segment now ${formatSeconds(result.start)}–${formatSeconds(result.end)} s${how.length ? `: ${how.join('; ')}` : ''}`,
      );
    }
    // Refused: the waveform shows the segment where it still is.
    else if (row && this.studio.selectedId === id) this.player.previewSpan(row.start, row.end);
  }

  /** Keeps a span of segment `id` clear of the neighbouring segments in the clip. */
  private clamp(id: number, start: number, end: number): { start: number; end: number } {
    const row = this.studio.rowById(id);
    let lo = 0;
    let hi = Infinity;
    for (const r of this.neighbours()) {
      if (r.utteranceId === id) continue;
      // Those already overlapping (a manifest may have them) do not constrain.
      if (row && r.start < row.end - EPSILON && r.end > row.start + EPSILON) continue;
      const centre = row ? (row.start + row.end) / 2 : (start + end) / 2;
      if (r.end <= centre) lo = Math.max(lo, r.end);
      else hi = Math.min(hi, r.start);
    }
    const s = Math.max(lo, start);
    const e = Math.min(hi, end);
    return e - s >= MIN_SEGMENT_S ? { start: s, end: e } : { start: row?.start ?? start, end: row?.end ?? end };
  }

  /** The segments the waveform shows around the selected one (recording time). */
  private neighbours(): { utteranceId: number; start: number; end: number }[] {
    const w = this.studio.waveform;
    if (!w) return [];
    return w.regions.map((r) => {
      const listed = this.studio.rowById(r.utteranceId);
      return { utteranceId: r.utteranceId, start: listed?.start ?? r.start, end: listed?.end ?? r.end };
    });
  }

  /** Loaded segments of a recording, in time order. */
  private ofRecording(recordingId: number): UtteranceRow[] {
    return this.studio.rows
      .filter((r) => r.recordingId === recordingId)
      .sort((a, b) => a.start - b.start || a.id - b.id);
  }

  private isLabelled(id: number): boolean {
    const row = this.studio.rowById(id);
    // Not listed (filtered out): assume labelled, so the summary never promises a replacement.
    if (!row) return true;
    return row.labelId !== null || row.importedLabelId !== null || row.consensus.labels > 0;
  }

  private skipReason(s: ProposedSegment): string | null {
    if (s.overlaps.length === 0) return null;
    const labelled = s.overlaps.filter((id) => this.isLabelled(id));
    if (this.onOverlap === 'replace-unlabelled' && labelled.length === 0) return null;
    return labelled.length
      ? 'overlaps a labelled utterance: it is kept and this proposal skipped'
      : 'overlaps an existing utterance: it is kept and this proposal skipped';
  }
}

function readSnap(): BoundarySnap {
  try {
    const parsed = BoundarySnapSchema.safeParse(localStorage.getItem(SNAP_KEY));
    return parsed.success ? parsed.data : 'off';
  } catch {
    return 'off';
  }
}

/** A signed shift in ms, e.g. "+3.2 ms". */
function formatMs(seconds: number): string {
  const ms = seconds * 1000;
  return `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(1)} ms`;
}
