/**
 * The pipelined front end: requests are decoded and resampled on a small pool of worker threads
 * (frontend-worker.ts) while the engine runs the model on earlier ones. Results come back in request
 * order through a queue bounded in audio-seconds: no new request is started while the prepared but
 * not yet taken audio holds `boundSeconds` or more, so memory stays bounded whatever the input.
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { APP_ROOT } from '../paths';
import { newDecodeCache, prepareAudio, type AudioJob, type Prepared } from './frontend';

/**
 * Front-end workers for `inferenceThreads` model threads: the cores left over, at least 2, at most 4.
 * At least 2 even when the model's threads take every core: the model waits for audio between
 * chunks, and a second worker decodes in that time (2 cores, tiny model, 3 interleaved runs, 1 → 2
 * workers: Opus 298–315 → 370–375× RT, MP3 378–418 → 458–467×, FLAC 371–406 → 428–474×, WAV equal).
 */
export function frontEndWorkerCount(inferenceThreads: number, cores = os.availableParallelism()): number {
  return Math.max(2, Math.min(4, cores - inferenceThreads));
}

export type Prepare = (job: AudioJob) => Promise<Prepared>;

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(path.join(APP_ROOT, 'out', 'main', 'frontend-worker.js'));
  const source = pathToFileURL(path.join(APP_ROOT, 'src', 'main', 'inference', 'frontend-worker.ts')).href;
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`,
    { eval: true },
  );
}

interface PoolWorker {
  worker: Worker;
  busy: number;
  lastPath: string | null;
  pending: Map<number, (p: Prepared) => void>;
}

/**
 * Worker threads that prepare audio jobs. A job goes to the worker that last had its file (its
 * decoded copy is still there) unless that one is busier than another, else to the least busy.
 * Size 0: in-process (no threads).
 */
export class FrontEndPool {
  private readonly workers: PoolWorker[] = [];
  private readonly inline = newDecodeCache();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {}

  private spawn(): void {
    while (this.workers.length < this.size) {
      const w: PoolWorker = { worker: startWorker(), busy: 0, lastPath: null, pending: new Map() };
      w.worker.on('message', (m: { id: number; result: Prepared }) => {
        const resolve = w.pending.get(m.id);
        w.pending.delete(m.id);
        w.busy--;
        resolve?.(m.result);
      });
      const fail = (why: string) => {
        for (const resolve of w.pending.values()) resolve({ kind: 'error', error: `audio front end: ${why}` });
        w.pending.clear();
        w.busy = 0;
        this.workers.splice(this.workers.indexOf(w), 1);
      };
      w.worker.on('error', (err) => fail(err.message));
      w.worker.on('exit', (code) => {
        if (w.pending.size || code !== 0) fail(`worker stopped (exit code ${code})`);
      });
      w.worker.unref();
      this.workers.push(w);
    }
  }

  prepare: Prepare = (job) => {
    if (this.closed) return Promise.resolve({ kind: 'error', error: 'audio front end closed' });
    if (this.size === 0) return prepareAudio(job, this.inline);
    this.spawn();
    const least = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const same = this.workers.find((w) => w.lastPath === job.path);
    const w = same && same.busy <= least.busy + 1 ? same : least;
    w.busy++;
    w.lastPath = job.path;
    const id = this.nextId++;
    return new Promise<Prepared>((resolve) => {
      w.pending.set(id, resolve);
      w.worker.ref();
      w.worker.postMessage({ id, job });
    }).finally(() => {
      if (w.busy === 0) w.worker.unref();
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }
}

export interface PipelineOptions {
  /** Prepared audio (seconds at the model's rate) waiting to be taken, at most (soft: the last one may exceed it). */
  boundSeconds: number;
  /** Jobs running at once. */
  concurrency: number;
  signal?: AbortSignal;
  /** Called with the seconds waiting in the queue each time an item is queued (tests, benchmarks). */
  onQueued?: (queuedSeconds: number) => void;
}

/**
 * Prepares `jobs` concurrently and yields them in order, as `[index, prepared]`. Stops starting jobs
 * when the signal aborts (the generator then returns).
 */
export async function* pipeline(
  jobs: readonly AudioJob[],
  prepare: Prepare,
  options: PipelineOptions,
): AsyncGenerator<[number, Prepared]> {
  const done = new Map<number, Prepared>();
  const secondsOf = (p: Prepared, job: AudioJob) => (p.kind === 'audio' ? p.audio.length / job.sampleRate : 0);
  let queued = 0; // seconds prepared and not yet taken
  let next = 0; // next job to start
  let running = 0;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const pump = () => {
    while (
      next < jobs.length &&
      running < options.concurrency &&
      queued < options.boundSeconds &&
      !options.signal?.aborted
    ) {
      const i = next++;
      running++;
      void prepare(jobs[i]!).then((p) => {
        running--;
        done.set(i, p);
        queued += secondsOf(p, jobs[i]!);
        options.onQueued?.(queued);
        notify();
        pump();
      });
    }
  };
  options.signal?.addEventListener('abort', notify, { once: true });
  try {
    pump();
    for (let i = 0; i < jobs.length; i++) {
      while (!done.has(i)) {
        if (options.signal?.aborted) return;
        await new Promise<void>((r) => (wake = r));
      }
      if (options.signal?.aborted) return;
      const p = done.get(i)!;
      done.delete(i);
      queued -= secondsOf(p, jobs[i]!);
      pump();
      yield [i, p];
    }
  } finally {
    options.signal?.removeEventListener('abort', notify);
  }
}
