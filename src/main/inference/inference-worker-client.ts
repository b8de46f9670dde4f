import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { APP_ROOT } from '../paths';
import type { EngineOptions, PredictProgress, PredictRequest, PredictResult } from './engine';
import type { ModelManifest } from './model-bundle';

export type WorkerReply =
  | {
      type: 'loaded';
      device: string;
      note: string;
      threads: number;
      precision: 'fp32' | 'int8';
      manifest: ModelManifest;
      checksum: string;
      dir: string;
    }
  | { type: 'results'; id: number; results: PredictResult[] }
  | { type: 'progress'; id: number; progress: PredictProgress }
  | { type: 'done'; id: number; cancelled: boolean }
  | { type: 'error'; id: number; message: string };

export type LoadedModel = Extract<WorkerReply, { type: 'loaded' }>;

/** Built, the worker is out/main/inference-worker.js; from source (tests) the .ts file, loaded through tsx. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(path.join(APP_ROOT, 'out', 'main', 'inference-worker.js'));
  const source = pathToFileURL(path.join(APP_ROOT, 'src', 'main', 'inference', 'inference-worker.ts')).href;
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`,
    { eval: true },
  );
}

/**
 * Runs an InferenceEngine on a worker thread. `predict` streams results chunk by chunk and can be
 * cancelled through its AbortSignal.
 */
export class InferenceWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private pendingLoad: { resolve: (m: LoadedModel) => void; reject: (e: Error) => void } | null = null;
  private readonly streams = new Map<
    number,
    {
      push: (r: PredictResult[]) => void;
      progress: (p: PredictProgress) => void;
      end: (cancelled: boolean) => void;
      fail: (e: Error) => void;
    }
  >();
  private exitError: Error | null = null;

  constructor() {
    this.worker = startWorker();
    this.worker.on('message', (message: WorkerReply) => this.onMessage(message));
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.failAll(new Error(`inference worker stopped (exit code ${code})`));
    });
  }

  private onMessage(message: WorkerReply): void {
    if (message.type === 'loaded') {
      this.pendingLoad?.resolve(message);
      this.pendingLoad = null;
    } else if (message.type === 'results') this.streams.get(message.id)?.push(message.results);
    else if (message.type === 'progress') this.streams.get(message.id)?.progress(message.progress);
    else if (message.type === 'done') this.streams.get(message.id)?.end(message.cancelled);
    else if (message.type === 'error') {
      const err = new Error(message.message);
      if (message.id === -1 || !this.streams.has(message.id)) {
        this.pendingLoad?.reject(err);
        this.pendingLoad = null;
      } else this.streams.get(message.id)!.fail(err);
    }
  }

  private failAll(err: Error): void {
    this.exitError = err;
    this.pendingLoad?.reject(err);
    this.pendingLoad = null;
    for (const s of this.streams.values()) s.fail(err);
  }

  load(bundleDir: string, options: EngineOptions = {}): Promise<LoadedModel> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      this.pendingLoad = { resolve, reject };
      this.worker.postMessage({ type: 'load', bundleDir, options });
    });
  }

  /**
   * `statisticsPool`: more utterances of the requests' speakers, read for a speaker-normalised model's
   * speaker statistics only; `onProgress`: that pass's progress (engine.ts PredictOptions).
   */
  async *predict(
    requests: PredictRequest[],
    signal?: AbortSignal,
    options: { statisticsPool?: PredictRequest[]; onProgress?: (p: PredictProgress) => void } = {},
  ): AsyncGenerator<PredictResult[]> {
    if (this.exitError) throw this.exitError;
    const id = this.nextId++;
    const queue: PredictResult[][] = [];
    let finished = false;
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    this.streams.set(id, {
      push: (r) => {
        queue.push(r);
        notify();
      },
      progress: (p) => options.onProgress?.(p),
      end: () => {
        finished = true;
        notify();
      },
      fail: (e) => {
        failure = e;
        notify();
      },
    });
    const onAbort = () => this.worker.postMessage({ type: 'cancel', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    this.worker.postMessage({ type: 'predict', id, requests, statisticsPool: options.statisticsPool });
    try {
      for (;;) {
        if (queue.length) {
          yield queue.shift()!;
          continue;
        }
        if (failure) throw failure;
        if (finished) return;
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.streams.delete(id);
    }
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
