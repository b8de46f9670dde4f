import type { DecodedAudio } from '../audio/decode';
import { resample } from '../audio/resampler';
import { monoSegment } from '../audio/signal';

/**
 * Decoded audio → the model's input: averaged to mono and resampled (src/main/audio/resampler.ts) to the
 * model's rate. The graph normalises each utterance itself, so raw samples go in.
 */
export async function modelInput(
  audio: DecodedAudio,
  start: number,
  end: number,
  sampleRate: number,
): Promise<Float32Array> {
  return resample(monoSegment(audio, start, end), audio.sampleRate, sampleRate);
}

export interface Window {
  offset: number;
  length: number;
}

/**
 * Cuts a signal longer than `maxSamples` into windows of `maxSamples` overlapping by `overlap`
 * (fraction); the last window is aligned to the end. One window covers a short signal.
 */
export function windowsFor(samples: number, maxSamples: number, overlap = 0.25): Window[] {
  if (samples <= maxSamples) return [{ offset: 0, length: samples }];
  const hop = Math.max(1, Math.floor(maxSamples * (1 - overlap)));
  const windows: Window[] = [];
  for (let offset = 0; ; offset += hop) {
    if (offset + maxSamples >= samples) {
      windows.push({ offset: samples - maxSamples, length: maxSamples });
      break;
    }
    windows.push({ offset, length: maxSamples });
  }
  return windows;
}
