/**
 * Decoding a file chunk by chunk, channels kept: a long recording is read a little at a time and never
 * sits in memory whole. audio-decode's streaming decoders for every format; Ogg Opus through
 * ogg-opus.ts when the caller names the rate it needs. Used by the model's front end (mono, through
 * inference/streaming-audio.ts) and by import (checksum and peaks, import/recording-analysis.ts).
 */
import decodeAudio from 'audio-decode';
import fs from 'node:fs';
import { AudioFileError, preflightAudio } from './decode';
import { decodeOggOpus, opusRateFor } from './ogg-opus';
import { findFlacSeekPoint, flacSampleRate, type FlacSeekPoint } from './flac-seek';
import { buildMp3Index, mp3SeekPoint, type Mp3Index } from './mp3-seek';
import { findOggOpusSeekPoint, OggPageReader, OPUS_PREROLL_48K, type OggOpusSeekPoint } from './ogg-seek';
import { downmix } from './signal';

/** audio-decode's chunked decoder names, by our container names. */
const CHUNKED_FORMAT: Record<string, 'wav' | 'aiff' | 'flac' | 'mp3' | 'oga' | 'opus' | 'm4a'> = {
  wav: 'wav',
  aiff: 'aiff',
  flac: 'flac',
  mp3: 'mp3',
  ogg: 'oga',
  opus: 'opus',
  m4a: 'm4a',
};

/** Bytes read per decoding step: a few seconds to a minute of audio whatever the format. */
const READ_BYTES: Record<string, number> = { wav: 1 << 20, aiff: 1 << 20, flac: 1 << 19 };
const COMPRESSED_READ_BYTES = 1 << 16;

export interface DecodeStreamOptions {
  /** The rate the caller resamples to: Ogg Opus decodes straight to the nearest rate at or above it. */
  preferredRate?: number;
  /** Sees every byte read from the file, in order (a checksum over the file as it streams). */
  onBytes?: (bytes: Uint8Array) => void;
}

/** Decodes a file chunk by chunk; each chunk's channels at the file's rate (or the Opus rate asked). */
export async function* decodeChunks(
  file: string,
  format: string,
  { preferredRate, onBytes }: DecodeStreamOptions = {},
): AsyncGenerator<{ channelData: Float32Array[]; sampleRate: number }> {
  const chunked = CHUNKED_FORMAT[format];
  if (!chunked) throw new AudioFileError(file, 'unsupported', `cannot stream ${format}`);
  try {
    const stream = fs.createReadStream(file, { highWaterMark: READ_BYTES[format] ?? COMPRESSED_READ_BYTES });
    async function* tapped(): AsyncGenerator<Uint8Array> {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        onBytes?.(chunk);
        yield chunk;
      }
    }
    const source = onBytes ? tapped() : stream;
    const decoded =
      format === 'opus' && preferredRate
        ? decodeOggOpus(source, opusRateFor(preferredRate))
        : decodeAudio(source as AsyncIterable<Uint8Array>, chunked);
    for await (const chunk of decoded) if (chunk.channelData[0]?.length) yield chunk;
  } catch (err) {
    if (err instanceof AudioFileError) throw err;
    throw new AudioFileError(file, 'corrupt', `cannot decode ${format.toUpperCase()}: ${(err as Error).message}`);
  }
}

/**
 * How many bytes of 16-bit 48 kHz stereo PCM one byte of a format can stand for, at the lowest
 * bitrates in common use (FLAC about half of PCM, MP3/AAC 32 kbit/s, Opus/Vorbis 16 kbit/s). A whole
 * file is decoded at once only when even that much audio stays under the WAV limit; a 10-minute
 * 24 kbit/s Opus file (1.8 MB) would otherwise be decoded whole into ~230 MB of float samples.
 */
const EXPANSION: Record<string, number> = { wav: 1, aiff: 1, flac: 2, mp3: 48, m4a: 48, ogg: 96, opus: 96 };

/** Whether a whole file of this format and size should be streamed rather than decoded at once. */
export function streamsWhole(format: string, size: number, streamAboveBytes: number): boolean {
  return size * (EXPANSION[format] ?? 48) > streamAboveBytes;
}

/** Checks the file (as decodeAudioFile would) and returns its format and size, without reading it all. */
export async function inspectAudioFile(file: string): Promise<{ format: string; size: number }> {
  let handle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AudioFileError(
      file,
      code === 'ENOENT' ? 'missing' : 'corrupt',
      code === 'ENOENT' ? 'file not found' : (err as Error).message,
    );
  }
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 64 * 1024));
    try {
      await handle.read(head, 0, head.length, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EISDIR')
        throw new AudioFileError(file, 'not-audio', 'is a folder, not a file');
      throw new AudioFileError(file, 'corrupt', `cannot read file: ${(err as Error).message}`);
    }
    return { format: preflightAudio(file, head, size), size };
  } finally {
    await handle.close();
  }
}

/**
 * Decodes a file chunk by chunk as mono samples at the file's own rate, or, for Opus with a
 * `preferredRate` (the rate the caller resamples to), at the lowest rate libopus decodes to that is
 * at least that (ogg-opus.ts).
 */
export async function* decodeMonoChunks(
  file: string,
  format: string,
  preferredRate?: number,
): AsyncGenerator<{ mono: Float32Array; sampleRate: number }> {
  for await (const chunk of decodeChunks(file, format, { preferredRate }))
    yield { mono: downmix(chunk.channelData), sampleRate: chunk.sampleRate };
}

/** Seconds of decoded audio a SegmentCursor keeps before its last read's start. */
const KEEP_SECONDS = 60;
/** A read starting this far past what is decoded seeks (Ogg Opus, MP3, FLAC) instead of decoding up to it. */
const SEEK_AHEAD_SECONDS = 10;

/** Mono chunks of a decoder's output (empty chunks dropped); a decoding error names the file. */
async function* monoOf(
  file: string,
  what: string,
  decoded: AsyncIterable<{ channelData: Float32Array[]; sampleRate: number }>,
): AsyncGenerator<{ mono: Float32Array; sampleRate: number }> {
  try {
    for await (const chunk of decoded)
      if (chunk.channelData[0]?.length) yield { mono: downmix(chunk.channelData), sampleRate: chunk.sampleRate };
  } catch (err) {
    if (err instanceof AudioFileError) throw err;
    throw new AudioFileError(file, 'corrupt', `cannot decode ${what}: ${(err as Error).message}`);
  }
}

/** A file's bytes from `offset` on, after its header bytes [0, headerEnd): a stream restarted at a seek point. */
async function* bytesFrom(
  file: string,
  headerEnd: number,
  offset: number,
  highWaterMark: number,
): AsyncGenerator<Uint8Array> {
  if (headerEnd > 0) {
    const handle = await fs.promises.open(file, 'r');
    try {
      const head = Buffer.alloc(headerEnd);
      await handle.read(head, 0, headerEnd, 0);
      yield head;
    } finally {
      await handle.close();
    }
  }
  yield* fs.createReadStream(file, { start: offset, highWaterMark }) as AsyncIterable<Buffer>;
}

/** Mono chunks of an MP3 file decoded from a frame's byte offset on (no tags before it: nothing trimmed). */
const mp3MonoFrom = (file: string, offset: number) =>
  monoOf(file, 'MP3', decodeAudio(bytesFrom(file, 0, offset, COMPRESSED_READ_BYTES), 'mp3'));

/** Mono chunks of a FLAC file decoded from a frame on: its metadata, then its frames from there. */
const flacMonoFrom = (file: string, point: FlacSeekPoint) =>
  monoOf(file, 'FLAC', decodeAudio(bytesFrom(file, point.headerEnd, point.offset, READ_BYTES.flac!), 'flac'));

/** Mono chunks of an Ogg Opus file at `rate`, from its start or a seek point (its header pages, then its pages from there). */
const opusMonoFrom = (file: string, rate: number, point: OggOpusSeekPoint | null) =>
  monoOf(
    file,
    'OPUS',
    decodeOggOpus(
      bytesFrom(file, point?.headerEnd ?? 0, point?.offset ?? 0, COMPRESSED_READ_BYTES),
      opusRateFor(rate),
      point ? { startGranule: point.startGranule } : {},
    ),
  );

/** Where a SegmentCursor restarts decoding after a seek, and what it then decodes. */
interface Restart {
  chunks: AsyncGenerator<{ mono: Float32Array; sampleRate: number }>;
  rate: number;
  /** Index of the first sample the chunks give, and of the first one that is exact (after the run-in). */
  firstSample: number;
  exactFrom: number;
  /** Where the whole decode ends, when the seek knows it (the decoder restarted mid-file does not trim the end). */
  endSample?: number;
}

/**
 * Segments of one long compressed file, read by decoding forward: a read continues where the last
 * one stopped (the studio's and VAD's segments come in time order), and only the samples from a
 * minute before the last read's start on are kept. A read that starts earlier restarts the decoder:
 * from the start of the file, or for Ogg Opus, MP3 and FLAC from a page or frame just before it
 * (ogg-seek.ts, mp3-seek.ts, flac-seek.ts; likewise a read far ahead of what is decoded). Gives what decoding the
 * whole file and cutting it (`monoSegment`) gives, without the whole file in memory (after an Opus
 * seek, to within libopus's convergence over its 80 ms pre-roll). Reads are serialised.
 */
export class SegmentCursor {
  private chunks: AsyncGenerator<{ mono: Float32Array; sampleRate: number }> | null = null;
  private parts: Float32Array[] = [];
  /** Absolute sample index of parts[0][0], and the number of samples held. */
  private partsStart = 0;
  private held = 0;
  private rate = 0;
  private ended = false;
  /** The first sample index decoded exactly (after an Opus seek, the pre-roll before it is not). */
  private validFrom = 0;
  /** Where the file's samples end, when known before decoding reaches it (after an MP3 seek). */
  private endSample = Infinity;
  private queue: Promise<unknown> = Promise.resolve();
  /** Ogg Opus is decoded here (to seek in it) at this rate, known before decoding; 0 for other formats. */
  private readonly opusRate: number;
  /** An MP3 file's frame index, built at its first restart (null: it cannot be sought in). */
  private mp3Index: Promise<Mp3Index | null> | null = null;
  /** A FLAC file's sample rate from its STREAMINFO, read at its first restart (0: unknown). */
  private flacRate: Promise<number> | null = null;
  /** Decoder restarts: from the start of the file, and from a seek point (Ogg Opus, MP3, FLAC). */
  readonly restarts = { fromStart: 0, seeks: 0 };

  constructor(
    readonly file: string,
    readonly format: string,
    /** The rate the reader resamples to (decodeMonoChunks). */
    readonly preferredRate?: number,
  ) {
    this.opusRate = format === 'opus' ? opusRateFor(preferredRate ?? 48000) : 0;
  }

  /** Mono samples of [start, end) seconds at the file's rate (clamped to the signal). */
  read(start: number, end: number): Promise<{ samples: Float32Array; sampleRate: number }> {
    return this.enqueue(
      (rate) => Math.max(0, Math.floor(start * rate)),
      (rate) => Math.ceil(end * rate),
    );
  }

  /** Mono samples [from, to) by index at the file's rate (clamped to the signal). */
  readFrames(from: number, to: number): Promise<{ samples: Float32Array; sampleRate: number }> {
    return this.enqueue(
      () => Math.max(0, from),
      () => to,
    );
  }

  private enqueue(
    fromAt: (rate: number) => number,
    toAt: (rate: number) => number,
  ): Promise<{ samples: Float32Array; sampleRate: number }> {
    const run = this.queue.then(() => this.readNow(fromAt, toAt));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The rate its samples come at; known without moving once anything was read (else it reads nothing at the start). */
  async sampleRate(): Promise<number> {
    return this.rate || (await this.readFrames(0, 0)).sampleRate;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.chunks?.return(undefined);
    this.chunks = null;
  }

  /** Where to restart decoding for sample `index` (at the decoded rate); null: from the start. */
  private async restartAt(index: number): Promise<Restart | null> {
    if (this.format === 'flac') {
      const rate = this.rate || ((await this.flacRate) ?? 0);
      const point = rate ? await findFlacSeekPoint(this.file, index).catch(() => null) : null;
      if (!point) return null;
      return {
        chunks: flacMonoFrom(this.file, point),
        rate,
        firstSample: point.firstSample,
        exactFrom: point.firstSample,
      };
    }
    if (this.format === 'mp3') {
      const mp3 = await this.mp3Index;
      const point = mp3 ? mp3SeekPoint(mp3, index) : null;
      if (!mp3 || !point) return null;
      return {
        chunks: mp3MonoFrom(this.file, point.offset),
        rate: mp3.sampleRate,
        ...point,
        ...(mp3.totalSamples === null ? {} : { endSample: mp3.totalSamples }),
      };
    }
    let reader: OggPageReader | null = null;
    let point: OggOpusSeekPoint | null;
    try {
      reader = await OggPageReader.open(this.file);
      point = await findOggOpusSeekPoint(reader, Math.floor((index * 48000) / this.opusRate));
    } catch {
      return null; // unreadable here: the decode from the start says why, as before
    } finally {
      await reader?.close();
    }
    if (!point) return null;
    const firstSample = Math.round(((point.startGranule - point.preSkip) * this.opusRate) / 48000);
    return {
      chunks: opusMonoFrom(this.file, this.opusRate, point),
      rate: this.opusRate,
      firstSample,
      exactFrom: firstSample + Math.round((OPUS_PREROLL_48K * this.opusRate) / 48000),
    };
  }

  private async readNow(
    fromAt: (rate: number) => number,
    toAt: (rate: number) => number,
  ): Promise<{ samples: Float32Array; sampleRate: number }> {
    const seekable = this.opusRate > 0 || this.format === 'mp3' || this.format === 'flac';
    // an MP3 file's index (and so its rate) is known before its first decode
    if (this.format === 'mp3' && !this.mp3Index) this.mp3Index = buildMp3Index(this.file).catch(() => null);
    if (this.format === 'flac' && !this.flacRate) this.flacRate = flacSampleRate(this.file);
    const rate = this.rate || this.opusRate || ((await this.mp3Index)?.sampleRate ?? 0) || ((await this.flacRate) ?? 0);
    const wanted = rate ? fromAt(rate) : 0;
    const behind = rate > 0 && wanted < Math.max(this.partsStart, this.validFrom);
    const farAhead =
      seekable && this.chunks !== null && wanted > this.partsStart + this.held + SEEK_AHEAD_SECONDS * rate;
    if (!this.chunks || behind || farAhead) {
      await this.chunks?.return(undefined);
      this.parts = [];
      this.held = 0;
      this.ended = false;
      const restart = seekable && wanted > 0 ? await this.restartAt(wanted) : null;
      if (restart) {
        this.restarts.seeks++;
        this.rate = restart.rate;
        this.partsStart = restart.firstSample;
        this.validFrom = restart.exactFrom;
        this.endSample = restart.endSample ?? Infinity;
        this.chunks = restart.chunks;
      } else {
        this.restarts.fromStart++;
        this.partsStart = 0;
        this.validFrom = 0;
        this.endSample = Infinity;
        this.chunks = this.opusRate
          ? opusMonoFrom(this.file, this.opusRate, null)
          : decodeMonoChunks(this.file, this.format, this.preferredRate);
      }
    }
    const from = () => fromAt(this.rate);
    while (!this.ended && (this.rate === 0 || this.partsStart + this.held < toAt(this.rate))) {
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
    const b = Math.max(a, Math.min(this.partsStart + this.held, toAt(this.rate), this.endSample));
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
