import { SvelteMap } from 'svelte/reactivity';
import type { JobStatus, StudioClient } from '../../../../shared/contract';
import { Waiters } from '../util/collections';

const POLL_MS = 1000;

/**
 * Jobs the core runs (import, export, relink), as its `jobUpdated` events describe them. `follow`
 * resolves when a job ends; it also polls now and then, in case an event was missed while the
 * event socket reconnected.
 */
export class JobsState {
  readonly byId = new SvelteMap<string, JobStatus>();
  running = $derived([...this.byId.values()].filter((j) => j.state === 'running'));
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
