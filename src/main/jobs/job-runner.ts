import { randomUUID } from 'node:crypto';
import type { JobStatus } from '../../shared/contract';
import { describeError } from '../errors';

export type JobKind = JobStatus['kind'];

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
  status: JobStatus;
  controller: AbortController;
  done: Promise<JobStatus>;
  startedMs: number;
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

  start<T>(kind: JobKind, title: string, run: (ctx: JobContext) => Promise<T>): string {
    const id = randomUUID();
    const controller = new AbortController();
    const startedMs = Date.now();
    const status: JobStatus = {
      id,
      kind,
      title,
      state: 'running',
      done: 0,
      total: 0,
      message: '',
      startedAt: new Date(startedMs).toISOString(),
      etaSeconds: null,
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
          this.emit({ ...status });
        }
      },
    };
    const done = (async () => {
      this.emit({ ...status });
      try {
        const result = await run(ctx);
        status.state = controller.signal.aborted ? 'cancelled' : 'succeeded';
        status.result = result;
      } catch (err) {
        if (err instanceof JobCancelledError || controller.signal.aborted) {
          status.state = 'cancelled';
        } else {
          status.state = 'failed';
          status.error = describeError(this.mapError(err));
        }
      }
      status.etaSeconds = null;
      this.emit({ ...status });
      return { ...status };
    })();
    this.jobs.set(id, { status, controller, done, startedMs });
    return id;
  }

  list(): JobStatus[] {
    return [...this.jobs.values()].map((j) => ({ ...j.status }));
  }

  get(id: string): JobStatus | undefined {
    const job = this.jobs.get(id);
    return job && { ...job.status };
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job || job.status.state !== 'running') return false;
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
    for (const job of this.jobs.values()) if (job.status.state === 'running') job.controller.abort();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.done));
  }
}
