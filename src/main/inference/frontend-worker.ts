/**
 * Worker-thread entry of the audio front end (frontend-pipeline.ts): prepares one job at a time per
 * message, keeping the last decoded file and its resamplers' wasm instances for the thread's lifetime.
 */
import { parentPort } from 'node:worker_threads';
import { newDecodeCache, prepareAudio, type AudioJob } from './frontend';

const port = parentPort!;
const cache = newDecodeCache();

port.on('message', (message: { id: number; job: AudioJob }) => {
  void prepareAudio(message.job, cache).then((result) => {
    if (result.kind === 'audio' && result.audio.byteLength !== result.audio.buffer.byteLength)
      result.audio = result.audio.slice(); // transfer only its own samples
    const transfer = result.kind === 'audio' ? [result.audio.buffer as ArrayBuffer] : [];
    port.postMessage({ id: message.id, result }, transfer);
  });
});
