/**
 * Polyphase windowed-sinc resampler for rational rate ratios (48k→16k = 1:3, 44.1k→16k = 160:441,
 * 22.05k→16k = 320:441, 32k→16k = 1:2, 8k→16k = 2:1 …): one Kaiser-windowed sinc prototype,
 * split into `up` phases of `taps` coefficients precomputed once, so each output sample is one
 * dot product of `taps` inputs. Stateful: chunks of a stream go through `process`, then `flush`.
 *
 * Output sample n is the input signal at time n·down/up (input samples), so the output has no delay
 * and a signal of N samples gives ceil(N·up/down) samples (torchaudio's length; libsamplerate's
 * `simple` gives the same within one sample).
 *
 * A candidate measured by benchmarks/resampler.bench.ts (not used by the app): passband to 0.9 of
 * the lower Nyquist frequency, stopband from 1.0 of it (nothing aliases), 100 dB Kaiser design.
 */

export interface ResamplerDesign {
  /** Passband edge as a fraction of the lower of the two Nyquist frequencies. */
  passband: number;
  /** Stopband edge as a fraction of the lower Nyquist frequency (1: no aliasing at all). */
  stopband: number;
  /** Kaiser design attenuation in dB. */
  attenuationDb: number;
}

export const DEFAULT_RESAMPLER_DESIGN: ResamplerDesign = { passband: 0.9, stopband: 1.0, attenuationDb: 100 };

/** Ratios whose prototype would have more phases than this use the fallback resampler. */
export const MAX_PHASES = 1024;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The reduced ratio up:down of two integer rates, or null when it needs too many phases. */
export function rationalRatio(fromRate: number, toRate: number): { up: number; down: number } | null {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) return null;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  return up <= MAX_PHASES ? { up, down } : null;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const tableCache = new Map<string, { taps: number; coeffs: Float32Array }>();

/** The polyphase table: `up` rows of `taps` coefficients; row p is the prototype at offset p/up. */
function designTable(
  fromRate: number,
  toRate: number,
  up: number,
  design: ResamplerDesign,
): { taps: number; coeffs: Float32Array } {
  const key = `${fromRate}:${toRate}:${design.passband}:${design.stopband}:${design.attenuationDb}`;
  const cached = tableCache.get(key);
  if (cached) return cached;
  const nyquist = Math.min(fromRate, toRate) / 2;
  const fp = design.passband * nyquist;
  const fs = design.stopband * nyquist;
  const cutoff = (fp + fs) / 2 / fromRate; // cycles per input sample
  const transition = (2 * Math.PI * (fs - fp)) / fromRate; // radians per input sample
  const a = design.attenuationDb;
  const beta = a > 50 ? 0.1102 * (a - 8.7) : a > 21 ? 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) : 0;
  let taps = Math.ceil((a - 7.95) / (2.285 * transition)) + 1;
  taps += taps % 2; // even: as many inputs before the output instant as after it
  const half = taps / 2;
  const i0beta = besselI0(beta);
  const coeffs = new Float32Array(up * taps);
  for (let p = 0; p < up; p++) {
    let sum = 0;
    const row = new Float64Array(taps);
    for (let j = 0; j < taps; j++) {
      const t = j - half + 1 - p / up; // input-sample time of tap j relative to the output instant
      const x = 2 * cutoff * t;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const r = t / half;
      const w = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0beta;
      row[j] = 2 * cutoff * sinc * w;
      sum += row[j]!;
    }
    // Unit DC gain in every phase.
    for (let j = 0; j < taps; j++) coeffs[p * taps + j] = row[j]! / sum;
  }
  const table = { taps, coeffs };
  tableCache.set(key, table);
  return table;
}

export class PolyphaseResampler {
  readonly up: number;
  readonly down: number;
  readonly taps: number;
  private readonly half: number;
  private readonly coeffs: Float32Array;
  /** Input samples still needed, and the absolute input index of history[0]. */
  private history: Float32Array;
  private historyStart: number;
  private inputCount = 0;
  /** Absolute index of the next output sample, and its input position floor(n·down/up) and phase. */
  private nextOut = 0;
  private flushed = false;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    design: ResamplerDesign = DEFAULT_RESAMPLER_DESIGN,
  ) {
    const ratio = rationalRatio(fromRate, toRate);
    if (!ratio) throw new Error(`no polyphase table for ${fromRate} Hz → ${toRate} Hz`);
    this.up = ratio.up;
    this.down = ratio.down;
    const table = designTable(fromRate, toRate, ratio.up, design);
    this.taps = table.taps;
    this.coeffs = table.coeffs;
    this.half = table.taps / 2;
    // Zeros before the signal, so the first outputs see a full window.
    this.history = new Float32Array(this.half - 1);
    this.historyStart = -(this.half - 1);
  }

  /** Resamples a whole signal in one call. */
  static resample(
    input: Float32Array,
    fromRate: number,
    toRate: number,
    design: ResamplerDesign = DEFAULT_RESAMPLER_DESIGN,
  ): Float32Array {
    const r = new PolyphaseResampler(fromRate, toRate, design);
    const a = r.process(input);
    const b = r.flush();
    if (!b.length) return a;
    const out = new Float32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  /** Feeds input; returns the output samples that are complete. */
  process(input: Float32Array): Float32Array {
    if (this.flushed) throw new Error('resampler already flushed');
    this.inputCount += input.length;
    const buf = new Float32Array(this.history.length + input.length);
    buf.set(this.history);
    buf.set(input, this.history.length);
    const out = this.run(buf, Number.POSITIVE_INFINITY);
    return out;
  }

  /** Ends the stream: the outputs up to ceil(N·up/down), reading zeros past the end. */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    const buf = new Float32Array(this.history.length + this.taps);
    buf.set(this.history);
    const total = Math.ceil((this.inputCount * this.up) / this.down);
    return this.run(buf, total);
  }

  private run(buf: Float32Array, limit: number): Float32Array {
    const { up, down, taps, half, coeffs } = this;
    const start = this.historyStart;
    const available = start + buf.length; // absolute end (exclusive) of usable input
    let n = this.nextOut;
    let pos = n * down;
    let i = Math.floor(pos / up);
    let p = pos - i * up;
    // Outputs whose last tap (input index i + taps - half) is available.
    const last = Math.min(limit, Math.floor(((available - taps + half) * up - 1) / down) + 1);
    const count = Math.max(0, last - n);
    const out = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      const base = i - half + 1 - start;
      const c = p * taps;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < taps; j += 4) {
        s0 += buf[base + j]! * coeffs[c + j]!;
        s1 += buf[base + j + 1]! * coeffs[c + j + 1]!;
        s2 += buf[base + j + 2]! * coeffs[c + j + 2]!;
        s3 += buf[base + j + 3]! * coeffs[c + j + 3]!;
      }
      for (; j < taps; j++) s0 += buf[base + j]! * coeffs[c + j]!;
      out[k] = s0 + s1 + s2 + s3;
      p += down;
      if (p >= up) {
        const step = Math.floor(p / up);
        i += step;
        p -= step * up;
      }
    }
    n += count;
    this.nextOut = n;
    pos = n * down;
    // Keep the inputs the next output's window starts at.
    const keepFrom = Math.min(available, Math.floor(pos / up) - half + 1);
    if (keepFrom > start) {
      this.history = buf.slice(keepFrom - start);
      this.historyStart = keepFrom;
    } else {
      this.history = buf;
    }
    return out;
  }
}
