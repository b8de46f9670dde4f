import { SvelteMap } from 'svelte/reactivity';
import type { JobStatus, StudioClient } from '../../../../shared/contract';
import { Waiters } from '../util/collections';

const POLL_MS = 1000;

/** What a job the host no longer knows after a reconnect ends with: it did not finish. */
export const INTERRUPTED =
  'Interrupted: the studio host stopped while this job was running and does not know it since its restart; ' +
  'the job did not finish. Start it again if it is still needed.';

/**
 * Jobs the core runs (import, export, relink, …), as its `jobUpdated` events describe them. `follow`
 * resolves when a job ends; it also polls now and then, in case an event was missed while the
 * event socket reconnected. After a reconnect (`reconnected`) the host's list is read again and a
 * job it no longer knows (it ran on the host that stopped) ends as failed, with `INTERRUPTED`.
 */
export class JobsState {
  readonly byId = new SvelteMap<string, JobStatus>();
  /**
   * The running jobs (the status bar's progress bars) in the order they started, oldest first: a new
   * job is added at the end and the bars already shown do not move.
   */
  running = $derived(
    [...this.byId.values()]
      .filter((j) => j.state === 'running')
      .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0)),
  );
  private readonly waiters = new Waiters<string, JobStatus>();

  constructor(private readonly client: StudioClient) {}

  connect(): () => void {
    const off = this.client.on('jobUpdated', (status) => this.update(status));
    void this.refresh();
    return off;
  }

  async refresh(): Promise<void> {
    try {
      for (const status of await this.client.listJobs({})) this.update(status);
    } catch {
      // The next event or poll brings it.
    }
  }

  /**
   * The page is connected again, maybe to a restarted host: its jobs are read again, and each job
   * shown as running that it does not know ended with the host that stopped. Those end as failed
   * (`INTERRUPTED`), their followers are answered, and they are returned (for the banner). Nothing
   * changes when the list cannot be read (offline again: the next reconnect reads it).
   */
  async reconnected(): Promise<JobStatus[]> {
    let listed: JobStatus[];
    try {
      listed = await this.client.listJobs({});
    } catch {
      return [];
    }
    for (const status of listed) this.update(status);
    const known = listed.map((j) => j.id);
    const lost: JobStatus[] = [];
    for (const job of this.byId.values()) {
      if (job.state !== 'running' || known.includes(job.id)) continue;
      const ended: JobStatus = { ...job, state: 'failed', etaSeconds: null, message: INTERRUPTED, error: INTERRUPTED };
      lost.push(ended);
    }
    for (const ended of lost) this.update(ended);
    return lost;
  }

  /** Waits for a job to end and returns its final status. */
  follow(jobId: string): Promise<JobStatus> {
    const known = this.byId.get(jobId);
    if (known && known.state !== 'running') return Promise.resolve(known);
    const timer = setInterval(() => void this.refresh(), POLL_MS);
    return this.waiters.wait(jobId).finally(() => clearInterval(timer));
  }

  async cancel(jobId: string): Promise<void> {
    await this.client.cancelJob({ jobId });
  }

  private update(status: JobStatus): void {
    const known = this.byId.get(status.id);
    // Events can overtake each other with a poll: never go back from an end state or in progress.
    if (known && known.state !== 'running') return;
    if (known && status.state === 'running' && status.done < known.done) return;
    this.byId.set(status.id, status);
    if (status.state !== 'running') {
      this.waiters.resolve(status.id, status);
    }
  }
}
