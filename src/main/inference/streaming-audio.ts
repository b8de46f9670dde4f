import { AudioFileError } from '../audio/decode';
import { decodeMonoChunks } from '../audio/decode-stream';
import { createResampler, type StreamResampler } from '../audio/resampler';

/**
 * Decodes a file chunk by chunk, yielding mono audio resampled (resampler.ts, stateful across
 * chunks) to `sampleRate`: a long recording never sits in memory whole.
 */
export async function* streamMonoAudio(file: string, format: string, sampleRate: number): AsyncGenerator<Float32Array> {
  let converter: StreamResampler | null = null;
  let produced = 0;
  try {
    for await (const { mono, sampleRate: rate } of decodeMonoChunks(file, format, sampleRate)) {
      if (!converter && produced === 0 && rate !== sampleRate) converter = await createResampler(rate, sampleRate);
      const out = converter ? converter.process(mono) : mono;
      produced += out.length;
      if (out.length) yield out;
    }
    const tail = converter?.flush();
    if (tail?.length) {
      produced += tail.length;
      yield tail;
    }
  } finally {
    converter?.destroy();
  }
  if (produced === 0)
    throw new AudioFileError(file, 'corrupt', `no audio samples in this ${format.toUpperCase()} file`);
}

/**
 * The windows `windowsFor` would cut from the whole signal, produced while the signal streams in:
 * windows of `maxSamples` every `hop`, the last one aligned to the end.
 */
export async function* slidingWindows(
  chunks: AsyncIterable<Float32Array>,
  maxSamples: number,
  overlap: number,
): AsyncGenerator<{ offset: number; audio: Float32Array; total?: number }> {
  const hop = Math.max(1, Math.floor(maxSamples * (1 - overlap)));
  let buffer = new Float32Array(0);
  let bufferStart = 0; // stream position of buffer[0]
  let next = 0; // start of the next window to emit
  let total = 0;
  for await (const chunk of chunks) {
    const merged = new Float32Array(buffer.length + chunk.length);
    merged.set(buffer);
    merged.set(chunk, buffer.length);
    buffer = merged;
    total += chunk.length;
    // Emit a window only when more samples follow it: the final window is end-aligned instead.
    while (next + maxSamples < total) {
      yield { offset: next, audio: buffer.slice(next - bufferStart, next - bufferStart + maxSamples) };
      next += hop;
    }
    // Keep what later windows (and the end-aligned one) may still need.
    const keepFrom = Math.max(bufferStart, Math.min(next, total - maxSamples));
    if (keepFrom > bufferStart) {
      buffer = buffer.slice(keepFrom - bufferStart);
      bufferStart = keepFrom;
    }
  }
  const start = Math.max(0, total - maxSamples);
  yield { offset: start, audio: buffer.slice(start - bufferStart), total };
}
