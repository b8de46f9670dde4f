import { describe, expect, it, vi } from 'vitest';
import type { JobStatus, MergeReport } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { jobStatus, withJobs } from '../testing/jobs';
import { MergeState } from './merge.svelte';

const counts = (added = 0) => ({ added, updated: 0, unchanged: 0, refused: 0 });
const report = (change: Partial<MergeReport> = {}): MergeReport => ({
  mergeId: 4,
  copy: '/home/ana/ana.wfproj',
  sameOrigin: true,
  recordings: counts(),
  utterances: counts(),
  annotations: counts(3),
  history: counts(3),
  adjudications: counts(),
  labelsAdded: 0,
  annotatorsAdded: 1,
  conflictsResolved: 0,
  conflicts: [],
  refusals: [],
  nothingChanged: false,
  ...change,
});
const UNDONE = {
  mergeId: 4,
  annotationsReverted: 3,
  annotationsKept: 0,
  utterancesRemoved: 0,
  labelsRemoved: 0,
  annotatorsRemoved: 1,
};

/** The merge job `id` as the core reports it: running by default. */
const mergeJob = (id: string, change: Partial<JobStatus> = {}): JobStatus =>
  jobStatus({ id, kind: 'merge', title: 'Merge a copy', total: 3 }, change);

function setup(handlers: ConstructorParameters<typeof FakeClient>[0]) {
  const { fake, jobs, off } = withJobs(handlers);
  return { fake, merge: new MergeState(fake.client, jobs), off };
}

/** Merges `copy` as job `id`, which ends as `end`. */
async function mergeAs(fake: FakeClient, merge: MergeState, copy: string, id: string, end: Partial<JobStatus>) {
  const done = merge.merge(copy);
  fake.emit('jobUpdated', mergeJob(id));
  await vi.waitFor(() => expect(merge.status?.id).toBe(id));
  expect(merge.busy).toBe(true);
  expect(merge.canMerge('/elsewhere.wfproj')).toBe(false);
  fake.emit('jobUpdated', mergeJob(id, end));
  await done;
}

describe('MergeState', () => {
  it('merges the trimmed copy, shows its report, does not offer the same copy again until undone', async () => {
    const { fake, merge, off } = setup({
      startMerge: () => ({ jobId: 'm1' }),
      undoMerge: () => UNDONE,
    });
    expect(merge.canMerge('  ')).toBe(false);
    await mergeAs(fake, merge, ' /home/ana/ana.wfproj ', 'm1', { state: 'succeeded', done: 3, result: report() });
    expect(fake.calls.find((c) => c.name === 'startMerge')?.input).toEqual({ copy: '/home/ana/ana.wfproj' });
    expect(merge.report?.annotatorsAdded).toBe(1);
    expect(merge.canUndo).toBe(true);
    expect(merge.canMerge('/home/ana/ana.wfproj')).toBe(false);
    expect(merge.canMerge('/home/ana/bo.wfproj')).toBe(true);

    await merge.undo();
    expect(merge.undone).toEqual(UNDONE);
    expect(merge.undoing).toBe(false);
    expect(merge.canUndo).toBe(false);
    // Undone, the same copy can be merged again.
    expect(merge.canMerge('/home/ana/ana.wfproj')).toBe(true);
    off();
  });

  it('a merge that changed nothing offers no undo and may be asked again', async () => {
    const { fake, merge, off } = setup({ startMerge: () => ({ jobId: 'm2' }) });
    await mergeAs(fake, merge, '/home/ana/ana.wfproj', 'm2', {
      state: 'succeeded',
      result: report({ mergeId: null, nothingChanged: true }),
    });
    expect(merge.canUndo).toBe(false);
    expect(merge.canMerge('/home/ana/ana.wfproj')).toBe(true);
    off();
  });

  it('a refused merge and a refused undo surface as the core’s messages; a new merge clears the undo’s', async () => {
    const { fake, merge, off } = setup({
      startMerge: () => {
        throw new Error('The copy shares no recording with this project');
      },
      undoMerge: () => {
        throw new Error('The merge was already undone');
      },
    });
    await merge.merge('/home/ana/other.sqlite');
    expect(merge.error).toBe('The copy shares no recording with this project');
    expect(merge.report).toBeNull();
    expect(merge.busy).toBe(false);

    fake.handle({ startMerge: () => ({ jobId: 'm3' }) });
    await mergeAs(fake, merge, '/home/ana/ana.wfproj', 'm3', { state: 'succeeded', result: report() });
    expect(merge.error).toBeNull();
    await merge.undo();
    expect(merge.undoError).toBe('The merge was already undone');
    expect(merge.undone).toBeNull();
    expect(merge.canUndo).toBe(true);

    fake.handle({ startMerge: () => ({ jobId: 'm4' }) });
    await mergeAs(fake, merge, '/home/ana/bo.wfproj', 'm4', { state: 'failed', error: 'The copy is not a project' });
    expect(merge.error).toBe('The copy is not a project');
    expect(merge.undoError).toBeNull();
    off();
  });

  it('web mode has no native chooser for the copy', () => {
    const { merge, off } = setup({});
    expect(merge.chooseCopy).toBeNull();
    off();
  });
});
