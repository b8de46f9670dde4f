import {
  MAX_OVERVIEW_SEGMENTS,
  MAX_WAVEFORM_REGIONS,
  MAX_WAVEFORM_WINDOW_S,
  type RecordingOverview,
  type Waveform,
  type WaveformWindow,
} from '../../shared/contract';
import { StudioError, notFound } from '../errors';
import type { ProjectStore } from '../project/project-store';
import type { Recording } from '../db/recordings-repository';
import type { DecodedAudioCache } from './decoded-audio-cache';
import { encodeWav16, pcm16, readWavSegment, wavHeader16 } from './wav';

/** Regions returned with a waveform, at most (the selected utterance is always the nearest). */
export const MAX_REGIONS = MAX_WAVEFORM_REGIONS;

/**
 * Clips whose WAV would pass this are never made whole: their bytes are made for each range the
 * player reads (a 2-hour utterance at 48 kHz is a 690 MB WAV; a 10-hour one would not fit in memory).
 */
export const STREAM_CLIP_BYTES = 32 * 1024 * 1024;

/** The bytes of a media file, made on demand: `read` gives [start, end) (end exclusive). */
export interface MediaBody {
  contentType: string;
  size: number;
  read(start: number, end: number): Promise<Buffer>;
}

/** A media body over bytes already made. */
export function bufferMedia(body: Buffer, contentType: string): MediaBody {
  return {
    contentType,
    size: body.length,
    read: (start, end) => Promise.resolve(body.subarray(Math.max(0, start), Math.min(body.length, end))),
  };
}

/** Waveform peaks (from the project file, no decoding) and playable clips of utterances. */
export class WaveformService {
  constructor(
    private readonly store: ProjectStore,
    private readonly audio: DecodedAudioCache,
    private readonly streamClipBytes = STREAM_CLIP_BYTES,
  ) {}

  /**
   * The utterance with `contextSeconds` around it, or `window` of its recording (clamped to the
   * recording; a window wholly past its end is refused).
   */
  waveform(utteranceId: number, contextSeconds: number, window?: WaveformWindow): Waveform {
    const { store } = this;
    const u = store.utterances.byId(utteranceId);
    if (!u) throw notFound(`Utterance ${utteranceId}`);
    const rec = store.recordings.byId(u.recordingId)!;
    if (window && window.start >= rec.durationS)
      throw new StudioError(
        'invalid_request',
        `The window starts at ${window.start} s, past the end of ${rec.fileName} (${rec.durationS.toFixed(3)} s)`,
      );
    const clipStart = window ? window.start : Math.max(0, u.start - contextSeconds);
    const clipEnd = Math.min(rec.durationS, window ? window.end : u.end + contextSeconds);
    const all = store.recordings.peaks(rec.id);
    const pps = rec.peaksPerSecond;
    const peaks = Array.from(
      all.subarray(Math.floor(clipStart * pps), Math.ceil(clipEnd * pps)),
      (v) => Math.round(v * 1e4) / 1e4,
    );
    const annotator = store.annotator;
    // Densely segmented recordings can overlap a clip a thousand times: keep the nearest few.
    const middle = (u.start + u.end) / 2;
    const neighbours = store.utterances
      .overlapping(rec.id, clipStart, clipEnd)
      .sort((a, b) => Math.abs((a.start + a.end) / 2 - middle) - Math.abs((b.start + b.end) / 2 - middle))
      .slice(0, MAX_REGIONS)
      .sort((a, b) => a.start - b.start);
    const regions = neighbours.map((o) => ({
      utteranceId: o.id,
      start: o.start,
      end: o.end,
      labelId: store.annotations.get(o.id, 'human', annotator)?.labelId ?? null,
    }));
    return {
      utteranceId,
      mediaPath: window
        ? `recordings/${rec.id}/clip.wav?start=${clipStart}&end=${clipEnd}`
        : `utterances/${utteranceId}/clip.wav?context=${contextSeconds}`,
      clipStart,
      clipEnd,
      recordingDurationS: rec.durationS,
      windowed: window !== undefined,
      peaks,
      peaksPerSecond: pps,
      regions,
    };
  }

  /**
   * The whole recording: `bins` max-abs peaks from the stored ones (no decoding) and every segment with
   * the annotator's label (the nearest `MAX_OVERVIEW_SEGMENTS` to `around` when there are more).
   */
  overview(recordingId: number, bins: number, around = 0): RecordingOverview {
    const { store } = this;
    const rec = store.recordings.byId(recordingId);
    if (!rec) throw notFound(`Recording ${recordingId}`);
    const all = store.recordings.peaks(rec.id);
    const n = Math.max(1, Math.min(bins, all.length));
    const peaks: number[] = [];
    for (let b = 0; b < n && all.length > 0; b++) {
      let m = 0;
      for (let i = Math.floor((b * all.length) / n); i < Math.floor(((b + 1) * all.length) / n); i++)
        m = Math.max(m, all[i]!);
      peaks.push(Math.round(Math.min(1, m) * 1e4) / 1e4);
    }
    let utterances = store.utterances.overlapping(rec.id, 0, rec.durationS + 1);
    const truncated = utterances.length > MAX_OVERVIEW_SEGMENTS;
    if (truncated)
      utterances = utterances
        .sort((a, b) => Math.abs((a.start + a.end) / 2 - around) - Math.abs((b.start + b.end) / 2 - around))
        .slice(0, MAX_OVERVIEW_SEGMENTS)
        .sort((a, b) => a.start - b.start);
    const annotator = store.annotator;
    const segments = utterances.map((u) => ({
      utteranceId: u.id,
      start: u.start,
      end: u.end,
      labelId: store.annotations.get(u.id, 'human', annotator)?.labelId ?? null,
    }));
    return { recordingId: rec.id, durationS: rec.durationS, peaks, segments, truncated };
  }

  /** A 16-bit mono WAV of the utterance with context, at the recording's own sample rate (made whole). */
  async clip(utteranceId: number, contextSeconds: number): Promise<Buffer> {
    const media = await this.clipMedia(utteranceId, contextSeconds);
    return media.read(0, media.size);
  }

  /**
   * The utterance's clip as media: a short one made whole, a long one (over `streamClipBytes`) made
   * range by range as it is read, so a whole-session utterance plays without its WAV in memory.
   */
  async clipMedia(utteranceId: number, contextSeconds: number): Promise<MediaBody> {
    const u = this.store.utterances.byId(utteranceId);
    if (!u) throw notFound(`Utterance ${utteranceId}`);
    const rec = this.store.recordings.byId(u.recordingId)!;
    return this.mediaOf(rec, u.start - contextSeconds, u.end + contextSeconds);
  }

  /** A 16-bit mono WAV of a time range of a recording (at most `MAX_WAVEFORM_WINDOW_S`; clamped to it). */
  async recordingClip(recordingId: number, start: number, end: number): Promise<Buffer> {
    const media = await this.recordingClipMedia(recordingId, start, end);
    return media.read(0, media.size);
  }

  async recordingClipMedia(recordingId: number, start: number, end: number): Promise<MediaBody> {
    const rec = this.store.recordings.byId(recordingId);
    if (!rec) throw notFound(`Recording ${recordingId}`);
    if (!(end > start) || end - start > MAX_WAVEFORM_WINDOW_S + 1e-6)
      throw new StudioError(
        'invalid_request',
        `A recording clip runs from start to a later end, at most ${MAX_WAVEFORM_WINDOW_S} s (asked ${start}–${end} s)`,
      );
    return this.mediaOf(rec, start, end);
  }

  private async mediaOf(rec: Recording, from: number, to: number): Promise<MediaBody> {
    const cannotPlay = (err: unknown) =>
      new StudioError(
        'not_found',
        `Recording ${rec.fileName} cannot be played: ${(err as Error).message} (${rec.path})`,
      );
    const wav = rec.format === 'wav';
    // the rate the clip's samples come at: the file's own (compressed files: as their decoder gives them)
    let rate = rec.sampleRate;
    let reader: { read: (from: number, to: number) => Promise<Float32Array> } | null = null;
    const frames = () => {
      const total = Math.round(rec.durationS * rate);
      const first = Math.max(0, Math.floor(from * rate));
      return { first, count: Math.max(0, Math.min(total, Math.ceil(to * rate)) - first) };
    };
    if (frames().count * 2 + 44 <= this.streamClipBytes)
      return bufferMedia(await this.clipOf(rec, from, to), 'audio/wav');
    if (!wav) {
      try {
        const mono = await this.audio.openMono(rec.path);
        rate = mono.sampleRate;
        reader = mono;
      } catch (err) {
        throw cannotPlay(err);
      }
    }
    const { first, count } = frames();
    const header = wavHeader16(count, rate);
    /** Clip frames [a, b) as float samples: a WAV's straight from its bytes, others through the decode cache. */
    const samplesOf = async (a: number, b: number): Promise<Float32Array> => {
      if (reader) return reader.read(first + a, first + b);
      // a quarter sample in, so that floor/ceil land on the frames meant
      const part = await readWavSegment(rec.path, (first + a + 0.25) / rate, (first + b - 0.75) / rate);
      if (!part) throw new Error('not a PCM WAV it can read');
      return part.samples;
    };
    return {
      contentType: 'audio/wav',
      size: 44 + count * 2,
      read: async (start, end) => {
        start = Math.max(0, start);
        end = Math.min(44 + count * 2, end);
        const out = Buffer.alloc(Math.max(0, end - start));
        if (start < 44) header.copy(out, 0, start, Math.min(44, end));
        if (end > 44) {
          const d0 = Math.max(0, start - 44);
          const d1 = end - 44;
          const a = Math.floor(d0 / 2);
          const b = Math.ceil(d1 / 2);
          let samples: Float32Array;
          try {
            samples = await samplesOf(a, b);
          } catch (err) {
            throw cannotPlay(err);
          }
          const pcm = pcm16(samples.length === b - a ? samples : padTo(samples, b - a));
          pcm.copy(out, Math.max(0, 44 - start), d0 - a * 2, d1 - a * 2);
        }
        return out;
      },
    };
  }

  private async clipOf(rec: Recording, from: number, to: number): Promise<Buffer> {
    let clip;
    try {
      // PCM WAV: read just the clip's frames (a segment of an hour-long file plays at once).
      if (rec.format === 'wav') {
        const segment = await readWavSegment(rec.path, from, to);
        if (segment) return encodeWav16(segment.samples, segment.sampleRate);
      }
      // others: decoded whole once, or for a long recording decoded forward to the clip
      clip = await this.audio.segment(rec.path, from, to);
    } catch (err) {
      throw new StudioError(
        'not_found',
        `Recording ${rec.fileName} cannot be played: ${(err as Error).message} (${rec.path})`,
      );
    }
    return encodeWav16(clip.samples, clip.sampleRate);
  }
}

/** `samples` cut or padded with silence to `length`. */
function padTo(samples: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(samples.subarray(0, length));
  return out;
}
