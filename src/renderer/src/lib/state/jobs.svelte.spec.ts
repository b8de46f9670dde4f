import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobStatus } from '../../../../shared/contract';
import { FakeClient, row, studioHandlers } from '../testing/fake-client';
import { INTERRUPTED, JobsState } from './jobs.svelte';
import { StudioState } from './studio.svelte';

/** A job status the contract accepts: an import by default, running. */
function job(id: string, change: Partial<JobStatus> = {}): JobStatus {
  return {
    id,
    kind: 'import',
    title: `Import ${id}`,
    state: 'running',
    done: 0,
    total: 10,
    message: '',
    startedAt: '2026-11-27T10:00:00.000Z',
    etaSeconds: null,
    ...change,
  } as JobStatus;
}

describe('JobsState', () => {
  it('lists the running jobs in the order they started, whatever order they are heard of; ended ones drop out', async () => {
    const fake = new FakeClient({
      listJobs: () => [job('b', { startedAt: '2026-11-27T10:00:02.000Z' })],
    });
    const jobs = new JobsState(fake.client);
    const off = jobs.connect();
    await vi.waitFor(() => expect(jobs.byId.size).toBe(1));
    fake.emit('jobUpdated', job('c', { startedAt: '2026-11-27T10:00:03.000Z' }));
    fake.emit('jobUpdated', job('a', { startedAt: '2026-11-27T10:00:01.000Z' }));
    expect(jobs.running.map((j) => j.id)).toEqual(['a', 'b', 'c']);
    // Progress keeps a job's place; its end takes it out.
    fake.emit('jobUpdated', job('a', { startedAt: '2026-11-27T10:00:01.000Z', done: 5 }));
    expect(jobs.running.map((j) => j.id)).toEqual(['a', 'b', 'c']);
    fake.emit('jobUpdated', job('b', { startedAt: '2026-11-27T10:00:02.000Z', state: 'succeeded', done: 10 }));
    expect(jobs.running.map((j) => j.id)).toEqual(['a', 'c']);
    off();
  });

  it('after a reconnect, a job the host no longer knows ends as interrupted; one it knows follows the host', async () => {
    let listed = [job('lost'), job('kept')];
    const fake = new FakeClient({ listJobs: () => listed });
    const jobs = new JobsState(fake.client);
    const off = jobs.connect();
    await vi.waitFor(() => expect(jobs.running).toHaveLength(2));
    const followed = jobs.follow('lost');

    // The restarted host knows only 'kept' (the same process survived with it, say): 'lost' ran on the dead one.
    listed = [job('kept', { done: 4 })];
    const lost = await jobs.reconnected();
    expect(lost.map((j) => [j.id, j.state, j.error])).toEqual([['lost', 'failed', INTERRUPTED]]);
    expect(jobs.byId.get('lost')).toMatchObject({ state: 'failed', error: INTERRUPTED, etaSeconds: null });
    expect(jobs.running.map((j) => [j.id, j.done])).toEqual([['kept', 4]]);
    // Whoever followed it (a dialog's JobRun) is answered instead of waiting forever.
    await expect(followed).resolves.toMatchObject({ id: 'lost', state: 'failed', error: INTERRUPTED });
    // A late event of the dead host's job cannot bring it back.
    fake.emit('jobUpdated', job('lost', { done: 9 }));
    expect(jobs.byId.get('lost')?.state).toBe('failed');
    off();
  });

  it('changes nothing when the list cannot be read (offline again)', async () => {
    const fake = new FakeClient({ listJobs: () => [job('a')] }, { connection: true });
    const jobs = new JobsState(fake.client);
    const off = jobs.connect();
    await vi.waitFor(() => expect(jobs.running).toHaveLength(1));
    fake.goOffline();
    expect(await jobs.reconnected()).toEqual([]);
    expect(jobs.running.map((j) => j.id)).toEqual(['a']);
    off();
  });
});

describe('StudioState: jobs after the page reconnects to a restarted host', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('window', new EventTarget());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('re-reads the jobs; one that ran on the dead host is not shown as running, and the banner says it was interrupted', async () => {
    let hostJobs = [job('j1', { title: 'Import /corpora/big' })];
    const rows = [row(1)];
    const fake = new FakeClient({ ...studioHandlers(() => rows), listJobs: () => hostJobs }, { connection: true });
    const studio = new StudioState(fake.client);
    const disconnect = studio.connect();
    await vi.advanceTimersByTimeAsync(1000);
    expect(studio.jobs.running.map((j) => j.id)).toEqual(['j1']);

    fake.goOffline(); // the host is killed
    hostJobs = []; // and restarted: it has never heard of j1
    const before = fake.count('listJobs');
    fake.goOnline();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.count('listJobs')).toBeGreaterThan(before);
    expect(studio.jobs.running).toEqual([]);
    expect(studio.jobs.byId.get('j1')).toMatchObject({ state: 'failed', error: INTERRUPTED });
    expect(studio.error).toBe(
      '"Import /corpora/big" was interrupted: the studio host stopped while it ran, and it did not finish',
    );
    disconnect();
  });
});
