import { jobResult, type JobKind, type JobResult, type JobStatus } from '../../../../shared/contract';
import { errorMessage } from '../util/format';
import type { JobsState } from './jobs.svelte';

/**
 * One job a dialog starts and follows to its end: its live status, then its result or its error
 * (the core's message, whether the start was refused or the job failed).
 */
export class JobRun<K extends JobKind> {
  jobId = $state<string | null>(null);
  phase = $state<'idle' | 'starting' | 'running' | 'succeeded' | 'failed' | 'cancelled'>('idle');
  result = $state.raw<JobResult<K> | null>(null);
  error = $state<string | null>(null);
  busy = $derived(this.phase === 'starting' || this.phase === 'running');

  constructor(
    private readonly jobs: JobsState,
    private readonly kind: K,
  ) {}

  /** The job's live status, from the core's events. */
  get status(): JobStatus | undefined {
    return this.jobId ? this.jobs.byId.get(this.jobId) : undefined;
  }

  async start(begin: () => Promise<{ jobId: string }>): Promise<JobStatus | null> {
    this.phase = 'starting';
    this.result = null;
    this.error = null;
    this.jobId = null;
    try {
      const { jobId } = await begin();
      this.jobId = jobId;
      this.phase = 'running';
      const final = await this.jobs.follow(jobId);
      this.phase = final.state === 'running' ? 'failed' : final.state;
      if (final.state === 'succeeded') this.result = jobResult(final, this.kind) ?? null;
      else if (final.state === 'failed') this.error = final.error ?? 'The job failed';
      return final;
    } catch (err) {
      this.phase = 'failed';
      this.error = errorMessage(err);
      return null;
    }
  }

  async cancel(): Promise<void> {
    if (this.jobId) await this.jobs.cancel(this.jobId);
  }

  reset(): void {
    this.phase = 'idle';
    this.result = null;
    this.error = null;
    this.jobId = null;
  }
}
