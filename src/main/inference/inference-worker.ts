/**
 * Worker-thread entry: owns one InferenceEngine, so decoding, resampling and ONNX runs never block
 * the thread that serves the UI.
 */
import { parentPort } from 'node:worker_threads';
import { describeError } from '../errors';
import { InferenceEngine, type EngineOptions, type PredictRequest } from './engine';
import type { WorkerReply } from './inference-worker-client';

type Command =
  | { type: 'load'; bundleDir: string; options: EngineOptions }
  | { type: 'predict'; id: number; requests: PredictRequest[]; statisticsPool?: PredictRequest[] }
  | { type: 'cancel'; id: number }
  | { type: 'close' };

const port = parentPort!;
let engine: InferenceEngine | null = null;
const running = new Map<number, AbortController>();
const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (command: Command) => {
  void handle(command).catch((err) =>
    reply({ type: 'error', id: 'id' in command ? command.id : -1, message: describeError(err) }),
  );
});

async function handle(command: Command): Promise<void> {
  switch (command.type) {
    case 'load': {
      await engine?.close();
      engine = await InferenceEngine.load(command.bundleDir, command.options);
      reply({
        type: 'loaded',
        device: engine.device,
        note: engine.deviceNote,
        threads: engine.threads,
        precision: engine.precision,
        manifest: engine.bundle.manifest,
        checksum: engine.bundle.checksum,
        dir: engine.bundle.dir,
      });
      return;
    }
    case 'predict': {
      if (!engine) throw new Error('no model loaded');
      const controller = new AbortController();
      running.set(command.id, controller);
      try {
        const run = engine.predict(command.requests, {
          signal: controller.signal,
          statisticsPool: command.statisticsPool,
          onProgress: (progress) => reply({ type: 'progress', id: command.id, progress }),
        });
        for await (const results of run) {
          const buffers = results.flatMap((r) => (r.ok ? [r.embedding.buffer as ArrayBuffer] : []));
          reply({ type: 'results', id: command.id, results }, buffers);
        }
        reply({ type: 'done', id: command.id, cancelled: controller.signal.aborted });
      } finally {
        running.delete(command.id);
      }
      return;
    }
    case 'cancel':
      running.get(command.id)?.abort();
      return;
    case 'close':
      await engine?.close();
      engine = null;
      port.close();
      return;
  }
}
