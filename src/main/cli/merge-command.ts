import { parseArgs } from 'node:util';
import { jobResult, mergeConflictPlace, type MergeCounts, type MergeReport } from '../../shared/contract';
import { Studio } from '../api/studio';
import { handOut } from '../merge/handout';
import { UsageError } from './predict-command';

export const HANDOUT_USAGE = `  wavfusion handout --project FILE --out COPY [--annotator NAME] [--bundle-audio] [--json]
                                                   a copy of the project to label apart (a consistent
                                                   snapshot, its origin recorded); it references the
                                                   recordings, or bundles them in COPY.audio/`;

export const MERGE_COPY_USAGE = `  wavfusion merge --project FILE --copy COPY [--json]
                                                   merge a hand-out copy back: added, updated,
                                                   unchanged, conflicts (latest wins), refused; one
                                                   transaction; merging it again changes nothing
  wavfusion merge --project FILE --undo [--json]   revert the newest merge (edits made since are kept)`;

/** `wavfusion handout`: writes a copy of the project for one annotator to label apart. */
export function handoutCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      out: { type: 'string' },
      annotator: { type: 'string' },
      'bundle-audio': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.project || !values.out) throw new UsageError('handout needs --project FILE and --out COPY');
  if (values.annotator !== undefined && !values.annotator.trim()) throw new UsageError('--annotator needs a name');
  const studio = Studio.open(values.project, { create: false });
  try {
    const report = handOut(studio.store, {
      out: values.out,
      annotator: values.annotator,
      bundleAudio: values['bundle-audio']!,
    });
    process.stdout.write(
      values.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : `Handed out ${report.copy}${report.annotator ? ` for ${report.annotator}` : ''}: ` +
            `${report.recordings} recording(s), ${report.utterances} utterance(s)` +
            `${report.audioFolder ? `; audio in ${report.audioFolder}` : ''}` +
            `${report.audioMissing ? ` (${report.audioMissing} file(s) missing here, not bundled)` : ''}\n` +
            `Merge it back with: wavfusion merge --project ${studio.store.file} --copy ${report.copy}\n`,
    );
    return 0;
  } finally {
    studio.store.close();
  }
}

/** `wavfusion merge`: merges a hand-out copy into the project as a job (or reverts the newest merge). */
export async function mergeCopyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      copy: { type: 'string' },
      undo: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.project || (!values.copy && !values.undo) || (values.copy && values.undo))
    throw new UsageError('merge needs --project FILE and either --copy COPY or --undo');
  const studio = Studio.open(values.project, { create: false });
  try {
    if (values.undo) {
      const undone = studio.merges.undoMerge();
      process.stdout.write(
        values.json
          ? `${JSON.stringify(undone, null, 2)}\n`
          : `Undid merge ${undone.mergeId}: ${undone.annotationsReverted} annotation(s) reverted, ` +
              `${undone.annotationsKept} kept (edited since), ${undone.utterancesRemoved} utterance(s) removed\n`,
      );
      return 0;
    }
    const copy = values.copy!;
    const status = await studio.jobs.wait(
      studio.jobs.start('merge', `Merge ${copy}`, (ctx) => studio.merges.merge(copy, ctx)),
    );
    const report = jobResult(status, 'merge');
    if (status.state !== 'succeeded' || !report) {
      process.stderr.write(`wavfusion: merge ${status.state}: ${status.error ?? ''}\n`);
      return 1;
    }
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatMerge(report));
    return 0;
  } finally {
    await studio.close();
  }
}

const counts = (c: MergeCounts) =>
  `${c.added} added, ${c.updated} updated, ${c.unchanged} unchanged${c.refused ? `, ${c.refused} refused` : ''}`;

/** The merge report as text for a terminal. */
export function formatMerge(r: MergeReport): string {
  const lines = [
    r.nothingChanged
      ? `Nothing to merge from ${r.copy}: everything in it is already here.`
      : `Merged ${r.copy} (merge ${r.mergeId}; undo with --undo)`,
  ];
  if (!r.sameOrigin) lines.push('! The copy was not handed out from this project; it shares recordings with it.');
  lines.push(`  Recordings:    ${counts(r.recordings)}`);
  lines.push(`  Utterances:    ${counts(r.utterances)}`);
  lines.push(`  Annotations:   ${counts(r.annotations)}`);
  lines.push(`  History:       ${counts(r.history)}`);
  lines.push(`  Adjudications: ${counts(r.adjudications)}`);
  if (r.labelsAdded || r.annotatorsAdded)
    lines.push(`  Labels added: ${r.labelsAdded}; annotators added: ${r.annotatorsAdded}`);
  lines.push(`  Conflicts resolved (latest wins): ${r.conflictsResolved}`);
  for (const c of r.conflicts)
    lines.push(
      `    ${mergeConflictPlace(c)}, ${c.annotator}: kept the ${c.kept}'s (project ${c.projectAt ?? '—'}, copy ${c.copyAt ?? '—'})`,
    );
  if (r.conflictsResolved > r.conflicts.length) lines.push(`    … ${r.conflictsResolved - r.conflicts.length} more`);
  for (const why of r.refusals) lines.push(`  Refused: ${why}`);
  return `${lines.join('\n')}\n`;
}
