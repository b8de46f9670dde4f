import { decodeAudioFile, type DecodedAudio } from './decode';
import { inspectAudioFile, SegmentCursor, streamsWhole } from './decode-stream';
import { downmix, monoSegment } from './signal';

/**
 * A recording whose decoded samples could exceed this (as 16-bit 48 kHz stereo PCM bytes, by
 * `streamsWhole`: a WAV over 128 MiB, an Opus file over ~1.4 MB) is never decoded whole: its segments
 * are decoded forward by a SegmentCursor. A 10-hour Opus recording decodes to ~6.9 GB of float samples.
 */
export const WHOLE_DECODE_LIMIT_BYTES = 128 * 1024 * 1024;

/** Frames per piece of `monoChunks` (1 Mi: 4 MiB of float samples). */
export const MONO_CHUNK_FRAMES = 1 << 20;

/** Cursors kept open (one per long recording recently read). */
const CURSORS_KEPT = 4;

/**
 * Keeps the most recently decoded recordings in memory (bounded by sample bytes), so stepping through
 * the utterances of one long recording decodes it once; recordings too long to decode whole are read
 * segment by segment instead (`segment`, `openMono`).
 */
export class DecodedAudioCache {
  private readonly entries = new Map<string, Promise<DecodedAudio>>();
  private readonly sizes = new Map<string, number>();
  private readonly cursors = new Map<string, SegmentCursor>();

  constructor(
    private readonly maxBytes = 512 * 1024 * 1024,
    private readonly wholeLimitBytes = WHOLE_DECODE_LIMIT_BYTES,
  ) {}

  /** The whole decoded file (for files small enough; `segment` and `openMono` work for any length). */
  get(file: string): Promise<DecodedAudio> {
    const hit = this.entries.get(file);
    if (hit) {
      this.entries.delete(file);
      this.entries.set(file, hit);
      return hit;
    }
    const pending = decodeAudioFile(file);
    this.entries.set(file, pending);
    pending.then(
      (audio) => {
        this.sizes.set(
          file,
          audio.channels.reduce((n, c) => n + c.byteLength, 0),
        );
        this.evict(file);
      },
      () => this.entries.delete(file),
    );
    return pending;
  }

  /** Mono samples of [from, to) seconds at the file's rate, clamped to the signal (as `monoSegment`). */
  async segment(file: string, from: number, to: number): Promise<{ samples: Float32Array; sampleRate: number }> {
    const cursor = await this.cursorFor(file);
    if (cursor) return cursor.read(from, to);
    const audio = await this.get(file);
    return { samples: monoSegment(audio, from, to), sampleRate: audio.sampleRate };
  }

  /** A reader of the file's mono samples by index; outside the signal reads as silence. */
  async openMono(
    file: string,
  ): Promise<{ sampleRate: number; read: (from: number, to: number) => Promise<Float32Array> }> {
    const cursor = await this.cursorFor(file);
    if (cursor) {
      // (a probe at sample 0 would send a cursor that moved on back to the start)
      const sampleRate = await cursor.sampleRate();
      return {
        sampleRate,
        read: async (from, to) => {
          const out = new Float32Array(Math.max(0, to - from));
          const lo = Math.max(0, from);
          if (to <= lo) return out;
          const { samples } = await cursor.readFrames(lo, to);
          out.set(samples.subarray(0, Math.min(samples.length, to - lo)), lo - from);
          return out;
        },
      };
    }
    const decoded = await this.get(file);
    const mono = downmix(decoded.channels);
    return {
      sampleRate: decoded.sampleRate,
      read: (from, to) => {
        const out = new Float32Array(Math.max(0, to - from));
        for (let i = Math.max(0, from); i < Math.min(to, mono.length); i++) out[i - from] = mono[i]!;
        return Promise.resolve(out);
      },
    };
  }

  /**
   * Mono samples of [from, to) seconds at the file's rate, clamped to the signal (the same samples as
   * `segment`), in pieces of at most `chunkFrames` in time order: a long range is never held whole.
   */
  async *monoChunks(
    file: string,
    from: number,
    to: number,
    chunkFrames = MONO_CHUNK_FRAMES,
  ): AsyncGenerator<{ samples: Float32Array; sampleRate: number }> {
    const cursor = await this.cursorFor(file);
    if (!cursor) {
      // decoded whole (and cached) already, so short enough to hold: the range, a piece at a time
      const audio = await this.get(file);
      const range = monoSegment(audio, from, to);
      for (let a = 0; a < range.length; a += chunkFrames)
        yield { samples: range.subarray(a, a + chunkFrames), sampleRate: audio.sampleRate };
      return;
    }
    const rate = await cursor.sampleRate();
    const first = Math.max(0, Math.floor(from * rate));
    const end = Math.ceil(to * rate);
    for (let a = first; a < end; a += chunkFrames) {
      const b = Math.min(end, a + chunkFrames);
      const { samples } = await cursor.readFrames(a, b);
      if (samples.length > 0) yield { samples, sampleRate: rate };
      if (samples.length < b - a) return; // the signal ended
    }
  }

  /** The file's cursor when it is too long to decode whole; null when it is decoded whole. */
  private async cursorFor(file: string): Promise<SegmentCursor | null> {
    const open = this.cursors.get(file);
    if (open) {
      this.cursors.delete(file);
      this.cursors.set(file, open);
      return open;
    }
    if (this.entries.has(file)) return null;
    const { format, size } = await inspectAudioFile(file);
    if (!streamsWhole(format, size, this.wholeLimitBytes)) return null;
    const cursor = new SegmentCursor(file, format);
    this.cursors.set(file, cursor);
    for (const [key, old] of this.cursors) {
      if (this.cursors.size <= CURSORS_KEPT) break;
      this.cursors.delete(key);
      void old.close();
    }
    return cursor;
  }

  private evict(keep: string): void {
    let total = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    for (const key of this.entries.keys()) {
      if (total <= this.maxBytes) break;
      if (key === keep) continue;
      total -= this.sizes.get(key) ?? 0;
      this.entries.delete(key);
      this.sizes.delete(key);
    }
  }
}
