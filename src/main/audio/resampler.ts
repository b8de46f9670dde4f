/**
 * The studio's one resampler (model front end, streamed long files, export clips): the polyphase
 * WebAssembly SIMD resampler (polyphase-resampler.ts) for every ratio whose table fits, the Speex
 * resampler (speex-resampler.ts, quality 7) for the rest (rates like 44 057 Hz whose reduced ratio
 * has thousands of phases). Both are delay-free, give ceil(N·to/from) samples, pass to 0.9 of the
 * lower Nyquist frequency within 0.01 dB and attenuate above it by ≥ 95 dB
 * (tests/unit/resampler.test.ts); numbers in docs/benchmarks.md "Resampler".
 */
import { PolyphaseResampler } from './polyphase-resampler';
import { concatSamples } from './signal';
import { SpeexResampler } from './speex-resampler';

/** A stateful mono resampler: the chunks of a stream go through `process`, then `flush`, then `destroy`. */
export interface StreamResampler {
  readonly fromRate: number;
  readonly toRate: number;
  process(input: Float32Array): Float32Array;
  flush(): Float32Array;
  destroy(): void;
}

export async function createResampler(fromRate: number, toRate: number): Promise<StreamResampler> {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0)
    throw new Error(`cannot resample ${fromRate} Hz to ${toRate} Hz`);
  return PolyphaseResampler.create(fromRate, toRate) ?? (await SpeexResampler.create(fromRate, toRate));
}

/** Resamples a whole mono signal (the input itself when the rates are equal). */
export async function resample(input: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate) return input;
  return resampleWhole(await createResampler(fromRate, toRate), input);
}

/** A whole signal through one stream resampler, which is then destroyed. */
export function resampleWhole(r: StreamResampler, input: Float32Array): Float32Array {
  try {
    return concatSamples([r.process(input), r.flush()]);
  } finally {
    r.destroy();
  }
}
