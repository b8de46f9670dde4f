import { describe, expect, it, vi } from 'vitest';
import type { JobStatus } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { jobStatus, withJobs } from '../testing/jobs';
import { JobsState } from './jobs.svelte';
import { RelinkState } from './relink.svelte';

/** The relink job `id` as the core reports it: running by default. */
const relinkJob = (id: string, change: Partial<JobStatus> = {}): JobStatus =>
  jobStatus({ id, kind: 'relink', title: 'Relink missing recordings', total: 2 }, change);

/** Waits for `relink` to follow job `id` (its start answered, the core's first event heard). */
async function running(fake: FakeClient, relink: RelinkState, id: string): Promise<void> {
  fake.emit('jobUpdated', relinkJob(id));
  await vi.waitFor(() => expect(relink.status?.id).toBe(id));
}

function setup(startRelink: () => { jobId: string }) {
  const { fake, jobs, off } = withJobs({ startRelink });
  return { fake, jobs, relink: new RelinkState(fake.client, jobs), off };
}

describe('RelinkState', () => {
  it('starts a relink of the trimmed folder and follows the job to its report', async () => {
    const { fake, relink, off } = setup(() => ({ jobId: 'r1' }));
    const done = relink.start('  /data/moved  ');
    await running(fake, relink, 'r1');
    fake.emit('jobUpdated', relinkJob('r1', { done: 1 }));
    expect(relink.busy).toBe(true);
    expect(relink.status?.done).toBe(1);
    // A second start while it runs asks nothing.
    await relink.start('/elsewhere');
    fake.emit(
      'jobUpdated',
      relinkJob('r1', { state: 'succeeded', done: 2, result: { relinked: 1, stillMissing: ['/old/b.wav'] } }),
    );
    await done;
    expect(relink.busy).toBe(false);
    expect(relink.result).toEqual({ relinked: 1, stillMissing: ['/old/b.wav'] });
    expect(relink.error).toBeNull();
    expect(fake.calls.filter((c) => c.name === 'startRelink').map((c) => c.input)).toEqual([{ folder: '/data/moved' }]);
    off();
  });

  it('an empty folder asks nothing', async () => {
    const { fake, relink, off } = setup(() => ({ jobId: 'r1' }));
    await relink.start('   ');
    expect(fake.count('startRelink')).toBe(0);
    expect(relink.busy).toBe(false);
    off();
  });

  it('a refused start and a failed job surface as the core’s message', async () => {
    const { fake, relink, off } = setup(() => {
      throw new Error('Not a folder: /data/nothing');
    });
    await relink.start('/data/nothing');
    expect(relink.error).toBe('Not a folder: /data/nothing');
    expect(relink.busy).toBe(false);
    expect(relink.result).toBeNull();

    fake.handle({ startRelink: () => ({ jobId: 'r2' }) });
    const done = relink.start('/data/moved');
    await running(fake, relink, 'r2');
    expect(relink.error).toBeNull();
    fake.emit('jobUpdated', relinkJob('r2', { state: 'failed', error: 'The folder cannot be read' }));
    await done;
    expect(relink.error).toBe('The folder cannot be read');
    expect(relink.result).toBeNull();
    off();
  });

  it('cancel asks the core to cancel the running job', async () => {
    const { fake, relink, off } = setup(() => ({ jobId: 'r3' }));
    const done = relink.start('/data/moved');
    await running(fake, relink, 'r3');
    await relink.cancel();
    expect(fake.calls.find((c) => c.name === 'cancelJob')?.input).toEqual({ jobId: 'r3' });
    fake.emit('jobUpdated', relinkJob('r3', { state: 'cancelled' }));
    await done;
    expect(relink.busy).toBe(false);
    off();
  });
});

describe('RelinkState chooser', () => {
  it('has no native folder chooser in web mode', () => {
    const fake = new FakeClient({});
    expect(new RelinkState(fake.client, new JobsState(fake.client)).chooseFolder).toBeNull();
  });
});
