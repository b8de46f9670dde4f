import { AudioFileError } from '../audio/decode';
import { decodeChunks } from '../audio/decode-stream';
import { downmix } from '../audio/signal';
import { createResampler, type StreamResampler } from '../audio/resampler';

/**
 * Decodes a file chunk by chunk as mono samples at the file's own rate, or, for Opus with a
 * `preferredRate` (the rate the caller resamples to), at the lowest rate libopus decodes to that is
 * at least that (audio/decode-stream.ts).
 */
export async function* decodeMonoChunks(
  file: string,
  format: string,
  preferredRate?: number,
): AsyncGenerator<{ mono: Float32Array; sampleRate: number }> {
  for await (const chunk of decodeChunks(file, format, { preferredRate }))
    yield { mono: downmix(chunk.channelData), sampleRate: chunk.sampleRate };
}

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

/** Seconds of decoded audio a SegmentCursor keeps before its last read's start. */
const KEEP_SECONDS = 60;

/**
 * Segments of one long compressed file, read by decoding forward: a read continues where the last
 * one stopped (the studio's and VAD's segments come in time order), and only the samples from a
 * minute before the last read's start on are kept; a read that starts earlier restarts the decoder.
 * Gives what decoding the whole file and cutting it (`monoSegment`) gives, without the whole file
 * in memory. Reads are serialised.
 */
export class SegmentCursor {
  private chunks: AsyncGenerator<{ mono: Float32Array; sampleRate: number }> | null = null;
  private parts: Float32Array[] = [];
  /** Absolute sample index of parts[0][0], and the number of samples held. */
  private partsStart = 0;
  private held = 0;
  private rate = 0;
  private ended = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    readonly format: string,
    /** The rate the reader resamples to (decodeMonoChunks). */
    readonly preferredRate?: number,
  ) {}

  /** Mono samples of [start, end) seconds at the file's rate (clamped to the signal). */
  read(start: number, end: number): Promise<{ samples: Float32Array; sampleRate: number }> {
    const run = this.queue.then(() => this.readNow(start, end));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.chunks?.return(undefined);
    this.chunks = null;
  }

  private async readNow(start: number, end: number): Promise<{ samples: Float32Array; sampleRate: number }> {
    if (!this.chunks || (this.rate && Math.max(0, Math.floor(start * this.rate)) < this.partsStart)) {
      await this.chunks?.return(undefined);
      this.chunks = decodeMonoChunks(this.file, this.format, this.preferredRate);
      this.parts = [];
      this.partsStart = 0;
      this.held = 0;
      this.ended = false;
    }
    const from = () => Math.max(0, Math.floor(start * this.rate));
    while (!this.ended && (this.rate === 0 || this.partsStart + this.held < Math.ceil(end * this.rate))) {
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      this.rate ||= next.value.sampleRate;
      this.parts.push(next.value.mono);
      this.held += next.value.mono.length;
      // drop whole chunks that end more than KEEP_SECONDS before this read's start (reads of the
      // same file can arrive a little out of order: the front end prepares several at once)
      const keepFrom = from() - KEEP_SECONDS * this.rate;
      while (this.parts.length > 1 && this.partsStart + this.parts[0]!.length <= keepFrom) {
        this.partsStart += this.parts[0]!.length;
        this.held -= this.parts.shift()!.length;
      }
    }
    if (this.rate === 0)
      throw new AudioFileError(this.file, 'corrupt', `no audio samples in this ${this.format.toUpperCase()} file`);
    const a = from();
    const b = Math.max(a, Math.min(this.partsStart + this.held, Math.ceil(end * this.rate)));
    const samples = new Float32Array(Math.max(0, b - Math.max(a, this.partsStart)));
    let at = this.partsStart;
    let written = 0;
    for (const part of this.parts) {
      const lo = Math.max(a, at);
      const hi = Math.min(b, at + part.length);
      if (hi > lo) {
        samples.set(part.subarray(lo - at, hi - at), written);
        written += hi - lo;
      }
      at += part.length;
    }
    return { samples, sampleRate: this.rate };
  }
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
