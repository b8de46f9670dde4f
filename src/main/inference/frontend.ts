/**
 * The model's audio front end for one request: file → mono → the model's rate. Runs on the front-end
 * workers (frontend-worker.ts) or in-process. PCM WAV frames are read straight from the file (only
 * the segment's bytes); other formats are decoded whole once per file and kept while that file's
 * segments follow, except long compressed files, whose segments are decoded forward by a
 * SegmentCursor (audio/decode-stream.ts); resampling is src/main/audio/resampler.ts.
 */
import { AudioFileError, decodeAudioFile, type DecodedAudio } from '../audio/decode';
import { monoSegment } from '../audio/signal';
import { resample } from '../audio/resampler';
import { readWavFrames } from '../audio/wav';
import { describeError } from '../errors';
import { inspectAudioFile, SegmentCursor, streamsWhole } from '../audio/decode-stream';

export interface AudioJob {
  path: string;
  /** Seconds; null: the whole file. */
  start: number | null;
  end: number | null;
  sampleRate: number;
  /** A whole file bigger than this (WAV bytes; compressed files by streamsWhole) is not read: `long`. */
  streamAboveBytes: number;
}

export type Prepared = { kind: 'audio'; audio: Float32Array } | { kind: 'long' } | { kind: 'error'; error: string };

/**
 * The last file read, kept while its next segments come (one per worker): decoded whole, or, for a
 * long compressed file, a cursor that decodes forward segment by segment.
 */
export interface DecodeCache {
  /** `${rate}:${path}` of the file held. */
  key: string | null;
  audio: Promise<DecodedAudio> | null;
  cursor: SegmentCursor | null;
}

export const newDecodeCache = (): DecodeCache => ({ key: null, audio: null, cursor: null });

/** Points the cache at `path` (decoded for `rate`), letting go of the previous file's decoded audio or cursor. */
function useFile(cache: DecodeCache, path: string, rate: number): void {
  const key = `${rate}:${path}`;
  if (cache.key === key) return;
  void cache.cursor?.close();
  cache.key = key;
  cache.audio = null;
  cache.cursor = null;
}

export async function prepareAudio(job: AudioJob, cache: DecodeCache): Promise<Prepared> {
  try {
    let format: string | null = null;
    let long = false;
    try {
      const info = await inspectAudioFile(job.path);
      format = info.format;
      long = streamsWhole(format, info.size, job.streamAboveBytes);
      if (job.start === null && job.end === null && long) return { kind: 'long' };
    } catch {
      // decodeAudioFile below reports the problem with its own wording
    }
    const start = job.start ?? 0;
    const end = job.end ?? Number.POSITIVE_INFINITY;
    if (format === 'wav') {
      const pcm = await readPcmWavMono(job.path, start, end);
      if (pcm) return { kind: 'audio', audio: await resample(pcm.samples, pcm.sampleRate, job.sampleRate) };
    }
    useFile(cache, job.path, job.sampleRate);
    if (long && format !== 'wav') {
      // a segment of a long compressed file: decode forward to it, never the whole file at once
      cache.cursor ??= new SegmentCursor(job.path, format!, job.sampleRate);
      const { samples, sampleRate } = await cache.cursor.read(start, end);
      return { kind: 'audio', audio: await resample(samples, sampleRate, job.sampleRate) };
    }
    cache.audio ??= decodeAudioFile(job.path, { preferredRate: job.sampleRate });
    const audio = await cache.audio;
    const mono = monoSegment(audio, start, Math.min(end, audio.durationS));
    return { kind: 'audio', audio: await resample(mono, audio.sampleRate, job.sampleRate) };
  } catch (err) {
    return { kind: 'error', error: err instanceof AudioFileError ? err.message : describeError(err) };
  }
}

let S16: Float32Array | null = null;
/** audio-decode's 16-bit scale (negatives / 32768, positives / 32767), so samples are the same as decoding. */
function s16Table(): Float32Array {
  if (S16) return S16;
  S16 = new Float32Array(65536);
  for (let u = 0; u < 65536; u++) {
    const v = (u << 16) >> 16;
    S16[u] = v < 0 ? v / 32768 : v / 32767;
  }
  return S16;
}

/**
 * [start, end) seconds of a 16-bit PCM or 32-bit float WAV read from the file, averaged to mono
 * (the same samples and arithmetic as audio-decode + downmix + monoSegment). Null for other encodings.
 */
export async function readPcmWavMono(
  file: string,
  start: number,
  end: number,
): Promise<{ sampleRate: number; samples: Float32Array } | null> {
  const read = await readWavFrames(
    file,
    start,
    end,
    ({ encoding, bitsPerSample: bits }) => (encoding === 1 && bits === 16) || (encoding === 3 && bits === 32),
  );
  if (!read) return null;
  const { encoding, channels, sampleRate } = read.layout;
  const n = read.frames;
  const out = new Float32Array(n);
  if (encoding === 1) {
    const s = new Uint16Array(read.raw);
    const t = s16Table();
    if (channels === 1) for (let i = 0; i < n; i++) out[i] = t[s[i]!]!;
    else for (let c = 0; c < channels; c++) for (let i = 0, k = c; i < n; i++, k += channels) out[i]! += t[s[k]!]!;
  } else {
    const s = new Float32Array(read.raw);
    if (channels === 1) out.set(s);
    else for (let c = 0; c < channels; c++) for (let i = 0, k = c; i < n; i++, k += channels) out[i]! += s[k]!;
  }
  if (channels > 1) {
    const k = 1 / channels;
    for (let i = 0; i < n; i++) out[i]! *= k;
  }
  return { sampleRate, samples: out };
}
