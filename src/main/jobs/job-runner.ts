import { randomUUID } from 'node:crypto';
import { jobStatus, type JobFields, type JobKind, type JobResult, type JobStatus } from '../../shared/contract';
import { describeError } from '../errors';

export type { JobKind };

export interface JobContext {
  readonly signal: AbortSignal;
  /** Reports progress; cheap to call often (events are throttled). */
  progress(done: number, total: number, message?: string, metrics?: Record<string, number | string>): void;
}

export class JobCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelledError';
  }
}

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new JobCancelledError();
}

interface Job {
  /** The job's status now. */
  status(): JobStatus;
  controller: AbortController;
  done: Promise<JobStatus>;
}

const EMIT_INTERVAL_MS = 100;

/**
 * Runs long work (import, export, inference) off the request path: each job reports progress and an
 * ETA, can be cancelled, and ends succeeded, failed or cancelled. Every state change goes to `emit`.
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly emit: (status: JobStatus) => void = () => {},
    /** Maps a job's error before it is reported (e.g. SQLite damage into the project's message). */
    private readonly mapError: (err: unknown) => unknown = (err) => err,
  ) {}

  /** Starts a job of `kind`; `run` resolves with that kind's result. Returns the job's id. */
  start<K extends JobKind>(kind: K, title: string, run: (ctx: JobContext) => Promise<JobResult<K>>): string {
    const id = randomUUID();
    const controller = new AbortController();
    const startedMs = Date.now();
    const status: JobFields = {
      id,
      title,
      state: 'running',
      done: 0,
      total: 0,
      message: '',
      startedAt: new Date(startedMs).toISOString(),
      etaSeconds: null,
    };
    let result: JobResult<K> | undefined;
    const snapshot = () => jobStatus({ ...status }, kind, result);
    const report = (): JobStatus => {
      const now = snapshot();
      this.emit(now);
      return now;
    };
    let lastEmit = 0;
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (done, total, message, metrics) => {
        status.done = done;
        status.total = total;
        if (message !== undefined) status.message = message;
        if (metrics !== undefined) status.metrics = metrics;
        const elapsed = (Date.now() - startedMs) / 1000;
        status.etaSeconds = done > 0 && total > done ? (elapsed / done) * (total - done) : done >= total ? 0 : null;
        const now = Date.now();
        if (now - lastEmit >= EMIT_INTERVAL_MS || done === total) {
          lastEmit = now;
          report();
        }
      },
    };
    const done = (async (): Promise<JobStatus> => {
      report();
      try {
        result = await run(ctx);
        status.state = controller.signal.aborted ? 'cancelled' : 'succeeded';
      } catch (err) {
        if (err instanceof JobCancelledError || controller.signal.aborted) {
          status.state = 'cancelled';
        } else {
          status.state = 'failed';
          status.error = describeError(this.mapError(err));
        }
      }
      status.etaSeconds = null;
      return report();
    })();
    this.jobs.set(id, { status: snapshot, controller, done });
    return id;
  }

  list(): JobStatus[] {
    return [...this.jobs.values()].map((j) => j.status());
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job || job.status().state !== 'running') return false;
    job.controller.abort();
    return true;
  }

  /** Resolves with the final status. */
  wait(id: string): Promise<JobStatus> {
    const job = this.jobs.get(id);
    if (!job) return Promise.reject(new Error(`no job ${id}`));
    return job.done;
  }

  /** Cancels all running jobs and waits for them to stop. */
  async shutdown(): Promise<void> {
    for (const job of this.jobs.values()) if (job.status().state === 'running') job.controller.abort();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.done));
  }
}
