/**
 * Working apart, merging together (issue 11): a hand-out copy of a project, labelled offline, merged
 * back into the project. Re-exported by contract.ts, whose `operations` and `JobStatus` use these.
 */
import { z } from 'zod';
import { HostPath } from './project-contract';

/** Merges a hand-out copy (a project file) into the open project, as a 'merge' job. */
export const MergeRequest = z.object({ copy: HostPath });
export type MergeRequest = z.input<typeof MergeRequest>;

/** Per kind of row: how many the merge added, updated (annotations), found unchanged, refused. */
export const MergeCounts = z.object({
  added: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  refused: z.number().int(),
});
export type MergeCounts = z.infer<typeof MergeCounts>;

/**
 * The same annotator changed the same utterance in both: the later change was kept. The utterance is
 * named as a user finds it in the list: its recording's file name and its span (null in a report
 * stored before they were recorded).
 */
export const MergeConflict = z.object({
  utteranceId: z.number().int(),
  recordingName: z.string().nullable().default(null),
  /** The utterance's start and end in its recording, in seconds. */
  start: z.number().nullable().default(null),
  end: z.number().nullable().default(null),
  annotator: z.string(),
  /** Which side's state the merge kept: the copy's (newer) or the project's (newer). */
  kept: z.enum(['copy', 'project']),
  projectAt: z.string().nullable(),
  copyAt: z.string().nullable(),
});
export type MergeConflict = z.infer<typeof MergeConflict>;

/**
 * Where a conflict is, as a user finds it in the list: "speech_03.wav 1.20–3.45 s"; a report stored
 * before recordings and spans were recorded says "Utterance 12".
 */
export function mergeConflictPlace(c: MergeConflict): string {
  if (c.recordingName == null) return `Utterance ${c.utteranceId}`;
  const span = c.start == null || c.end == null ? '' : ` ${c.start.toFixed(2)}–${c.end.toFixed(2)} s`;
  return `${c.recordingName}${span}`;
}

export const MergeReport = z.object({
  /** The merge's number (what undoMerge reverts); null when nothing changed (a copy merged again). */
  mergeId: z.number().int().nullable(),
  copy: z.string(),
  /** The copy was handed out from this project (else it only shares recordings with it). */
  sameOrigin: z.boolean(),
  recordings: MergeCounts,
  utterances: MergeCounts,
  annotations: MergeCounts,
  /** Label-history entries brought over (the copy's audit trail), and ones already here. */
  history: MergeCounts,
  adjudications: MergeCounts,
  labelsAdded: z.number().int(),
  annotatorsAdded: z.number().int(),
  /** Conflicts resolved (latest wins); `conflicts` lists the first 100. */
  conflictsResolved: z.number().int(),
  conflicts: z.array(MergeConflict),
  /** Why rows were refused (e.g. a recording whose path here holds other audio), the first 20. */
  refusals: z.array(z.string()),
  /** Nothing changed: everything in the copy was already here. */
  nothingChanged: z.boolean(),
});
export type MergeReport = z.infer<typeof MergeReport>;

/** A merge as the project remembers it. */
export const MergeRecord = z.object({
  id: z.number().int(),
  at: z.string(),
  annotator: z.string(),
  copy: z.string(),
  undoneAt: z.string().nullable(),
  report: MergeReport,
});
export type MergeRecord = z.infer<typeof MergeRecord>;

/** What undoMerge reverted, and what it left because it changed since the merge. */
export const MergeUndoReport = z.object({
  mergeId: z.number().int(),
  annotationsReverted: z.number().int(),
  /** Annotations edited again after the merge: left as they are now. */
  annotationsKept: z.number().int(),
  utterancesRemoved: z.number().int(),
  labelsRemoved: z.number().int(),
  annotatorsRemoved: z.number().int(),
});
export type MergeUndoReport = z.infer<typeof MergeUndoReport>;
