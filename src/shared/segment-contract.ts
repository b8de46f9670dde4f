/**
 * Long recordings: voice activity detection (a job that proposes segments), committing a proposal,
 * and segment edits (create, resize, split, merge, delete). Re-exported by contract.ts.
 */
import { z } from 'zod';

const Id = z.number().int().positive();
const Seconds = z.number().min(0).max(1e7);

/** VAD parameters; each has a default a person can leave alone. */
export const VadParams = z.object({
  /** Frame speech probability at or above which speech starts (0-1). */
  threshold: z.number().min(0.05).max(0.95).default(0.5),
  /** Speech shorter than this (ms) is dropped. */
  minSpeechMs: z.number().int().min(0).max(10_000).default(250),
  /** A pause must last this long (ms) to end a segment. */
  minSilenceMs: z.number().int().min(0).max(10_000).default(300),
  /** Added to each side of a segment (ms), never past half the gap to the next. */
  paddingMs: z.number().int().min(0).max(2_000).default(100),
  /** Longer segments are split at their lowest-energy point (s). */
  maxSegmentS: z.number().min(1).max(600).default(15),
});
export type VadParams = z.infer<typeof VadParams>;

/**
 * What VAD runs over: the given recordings (none: every recording of the project), optionally only
 * a time range (a selection; with exactly one recording).
 */
export const SegmentScope = z
  .object({
    recordingIds: z.array(Id).max(100_000).optional(),
    range: z.object({ start: Seconds, end: Seconds }).optional(),
  })
  .refine((s) => !s.range || s.recordingIds?.length === 1, {
    message: 'a range needs exactly one recording',
  })
  .refine((s) => !s.range || s.range.end > s.range.start, { message: 'a range must end after it starts' });
export type SegmentScope = z.infer<typeof SegmentScope>;

export const TimeSpan = z.object({ start: Seconds, end: Seconds });
export type TimeSpan = z.infer<typeof TimeSpan>;

/** A segment VAD found: where, and which existing utterances it overlaps (those are never replaced). */
export const ProposedSegment = TimeSpan.extend({ overlaps: z.array(Id) });
export type ProposedSegment = z.infer<typeof ProposedSegment>;

export const SegmentProposal = z.object({
  recordingId: Id,
  recordingName: z.string(),
  /** Seconds of audio scored. */
  duration: z.number(),
  segments: z.array(ProposedSegment),
  /** E.g. "no speech found" or how the audio was resampled. */
  note: z.string(),
});
export type SegmentProposal = z.infer<typeof SegmentProposal>;

export const SegmentationResult = z.object({
  params: VadParams,
  proposals: z.array(SegmentProposal),
  /** Recordings that could not be segmented (missing, unreadable), each with why. */
  failures: z.array(z.object({ recordingId: Id, recordingName: z.string(), reason: z.string() })),
  /** Audio seconds scored and how long that took. */
  audioSeconds: z.number(),
  elapsedSeconds: z.number(),
});
export type SegmentationResult = z.infer<typeof SegmentationResult>;

export const CommitSegmentsRequest = z.object({
  proposals: z
    .array(
      z.object({
        recordingId: Id,
        segments: z.array(TimeSpan).max(1_000_000),
        speaker: z.string().nullable().default(null),
      }),
    )
    .min(1),
  /**
   * Where a proposed segment overlaps an existing utterance: `skip` it (reported), `refuse` the whole
   * commit, or `replace-unlabelled`: replace existing utterances nobody labelled (e.g. the whole-file
   * utterance of a folder import; reported, and undone with the commit). Labelled ones are never replaced.
   */
  onOverlap: z.enum(['skip', 'refuse', 'replace-unlabelled']).default('skip'),
});
export type CommitSegmentsRequest = z.input<typeof CommitSegmentsRequest>;

export const CommitSegmentsResult = z.object({
  created: z.array(Id),
  skipped: z.array(z.object({ recordingId: Id, start: z.number(), end: z.number(), overlaps: z.array(Id) })),
  /** Unlabelled utterances the commit replaced (`replace-unlabelled`). */
  replaced: z.array(Id),
});
export type CommitSegmentsResult = z.infer<typeof CommitSegmentsResult>;

/** After a segment edit: the live segments it touched (their ids) and those it removed. */
export const SegmentEditResult = z.object({
  utteranceIds: z.array(Id),
  removed: z.array(Id),
  /** Segments whose labels were carried over by a split or disagreed in a merge. */
  flagged: z.array(Id),
});
export type SegmentEditResult = z.infer<typeof SegmentEditResult>;

/**
 * Where the core snaps a segment edge that a resize moves: `off` (where it was put), the nearest
 * `zero-crossing` (a sign change of the signal, so the cut does not click) or the `low-energy` point
 * (the quietest 10 ms), within SNAP_WINDOW_MS of where it was put and never back past where it was.
 */
export const BoundarySnap = z.enum(['off', 'zero-crossing', 'low-energy']);
export type BoundarySnap = z.infer<typeof BoundarySnap>;
/** How far (ms) either side of where an edge was put the core looks for the point to snap it to. */
export const SNAP_WINDOW_MS = 20;

/** A resize: the segment's span as stored, and each moved edge, where it was put and where it went. */
export const ResizeSegmentResult = SegmentEditResult.extend({
  start: z.number(),
  end: z.number(),
  snapped: z.array(
    z.object({
      edge: z.enum(['start', 'end']),
      requested: z.number(),
      to: z.number(),
      /** False when nothing in the window qualified (e.g. no sign change in digital silence): left as put. */
      moved: z.boolean(),
    }),
  ),
});
export type ResizeSegmentResult = z.infer<typeof ResizeSegmentResult>;

export const segmentOperationInputs = {
  createSegment: z.object({
    recordingId: Id,
    start: Seconds,
    end: Seconds,
    speaker: z.string().nullable().default(null),
    transcript: z.string().default(''),
  }),
  resizeSegment: z.object({ utteranceId: Id, start: Seconds, end: Seconds, snap: BoundarySnap.default('off') }),
  splitSegment: z.object({ utteranceId: Id, at: Seconds }),
  mergeSegmentWithNext: z.object({ utteranceId: Id }),
  deleteSegment: z.object({ utteranceId: Id }),
};
