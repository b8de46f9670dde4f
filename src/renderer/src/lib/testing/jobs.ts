import type { JobStatus } from '../../../../shared/contract';
import { JobsState } from '../state/jobs.svelte';
import { FakeClient } from './fake-client';

/** A job as the core reports it: running, nothing done yet, unless `change` says otherwise. */
export function jobStatus(
  job: { id: string; kind: JobStatus['kind']; title: string; total: number },
  change: Partial<JobStatus> = {},
): JobStatus {
  return {
    ...job,
    state: 'running',
    done: 0,
    message: '',
    startedAt: '2026-11-27T10:00:00.000Z',
    etaSeconds: null,
    ...change,
  } as JobStatus;
}

/**
 * A fake client that answers `handlers` (and lists no jobs, cancels any), with a JobsState following
 * its job events: what a manager that starts jobs is built on. `off` stops the following.
 */
export function withJobs(handlers: ConstructorParameters<typeof FakeClient>[0]) {
  const fake = new FakeClient({ listJobs: () => [], cancelJob: () => ({ cancelled: true }), ...handlers });
  const jobs = new JobsState(fake.client);
  const off = jobs.connect();
  return { fake, jobs, off };
}
