/**
 * Polyphase windowed-sinc resampler for rational rate ratios, its inner loop in WebAssembly SIMD
 * (polyphase-kernel.wat): the model front end's resampler for the common rates (44.1k→16k = 160:441,
 * 48k→16k = 1:3, 22.05k→16k = 320:441, 32k→16k = 1:2, 8k→16k = 2:1 …).
 *
 * Why not only Speex (speex-resampler.ts, kept for ratios with too many phases): for 44.1 kHz
 * family rates Speex has more phases than its table holds and falls back to interpolating its
 * oversampled sinc (four dot products per output); here one Kaiser-windowed prototype is split
 * into `up` phases precomputed once, so each output is one dot product of `taps` inputs. Same
 * design quality (passband to 0.9 of the lower Nyquist frequency, stopband from 1.0 of it: nothing
 * aliases, 100 dB Kaiser); numbers in docs/benchmarks.md "Resampler".
 *
 * Output sample n is the input at time n·down/up (no delay), and N inputs give ceil(N·up/down)
 * outputs (torchaudio's and Speex-with-delay-compensation's length). Stateful: the chunks of a
 * stream go through `process`, then `flush`; chunked = whole, to the bit.
 */
import { POLYPHASE_KERNEL_WASM } from './polyphase-kernel.wasm';
import { concatSamples } from './signal';

export interface ResamplerDesign {
  /** Passband edge as a fraction of the lower of the two Nyquist frequencies. */
  passband: number;
  /** Stopband edge as a fraction of the lower Nyquist frequency (1: no aliasing at all). */
  stopband: number;
  /** Kaiser design attenuation in dB. */
  attenuationDb: number;
}

export const DEFAULT_RESAMPLER_DESIGN: ResamplerDesign = { passband: 0.9, stopband: 1.0, attenuationDb: 100 };

/** Coefficients in a table, at most (4 MiB): ratios that need more go to the Speex resampler. */
const MAX_TABLE = 1 << 20;
/** Input samples per kernel call (bounds the wasm memory). */
const BLOCK = 1 << 17;
/** The kernel's stride unit (four f32x4 accumulators). */
const LANES = 16;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
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

export interface PolyphaseTable {
  up: number;
  down: number;
  /** Taps of the prototype per phase (even: as many inputs before the output instant as after). */
  taps: number;
  /** Taps per phase in `coeffs`, zero-padded to a multiple of 16. */
  stride: number;
  /** `up` rows of `stride` coefficients; row p is the prototype at offset p/up. */
  coeffs: Float32Array;
}

/** The taps a design needs between two rates (the Kaiser estimate, rounded up to even). */
function tapsFor(fromRate: number, toRate: number, design: ResamplerDesign): number {
  const nyquist = Math.min(fromRate, toRate) / 2;
  const transition = (2 * Math.PI * (design.stopband - design.passband) * nyquist) / fromRate;
  const taps = Math.ceil((design.attenuationDb - 7.95) / (2.285 * transition)) + 1;
  return taps + (taps % 2);
}

/**
 * The polyphase table for `fromRate` → `toRate`, or null when the reduced ratio needs more than
 * MAX_TABLE coefficients (a rate like 44 057 Hz: use the Speex resampler).
 */
export function polyphaseTable(
  fromRate: number,
  toRate: number,
  design: ResamplerDesign = DEFAULT_RESAMPLER_DESIGN,
): PolyphaseTable | null {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) return null;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const taps = tapsFor(fromRate, toRate, design);
  const stride = Math.ceil(taps / LANES) * LANES;
  if (up * stride > MAX_TABLE) return null;
  const key = `${fromRate}:${toRate}:${design.passband}:${design.stopband}:${design.attenuationDb}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const nyquist = Math.min(fromRate, toRate) / 2;
  const cutoff = ((design.passband + design.stopband) * nyquist) / 2 / fromRate; // cycles per input sample
  const a = design.attenuationDb;
  const beta = a > 50 ? 0.1102 * (a - 8.7) : a > 21 ? 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) : 0;
  const half = taps / 2;
  const i0beta = besselI0(beta);
  const coeffs = new Float32Array(up * stride);
  const row = new Float64Array(taps);
  for (let p = 0; p < up; p++) {
    let sum = 0;
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
    for (let j = 0; j < taps; j++) coeffs[p * stride + j] = row[j]! / sum;
  }
  const table = { up, down, taps, stride, coeffs };
  tables.set(key, table);
  return table;
}
const tables = new Map<string, PolyphaseTable>();

// The Node typings this project compiles against (no DOM lib) leave out WebAssembly's JS API.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

interface KernelExports {
  memory: WasmMemory;
  fir(
    buf: number,
    coeffs: number,
    out: number,
    count: number,
    stride: number,
    up: number,
    down: number,
    i: number,
    p: number,
  ): void;
}

/** One kernel instance per table and thread: the table at offset 0, then the input and output blocks. */
interface Kernel {
  exports: KernelExports;
  table: PolyphaseTable;
  input: number;
  output: number;
}

let compiled: WebAssembly.Module | null = null;
const kernels = new Map<PolyphaseTable, Kernel>();

function kernelFor(table: PolyphaseTable): Kernel {
  const cached = kernels.get(table);
  if (cached) return cached;
  compiled ??= new WebAssembly.Module(Buffer.from(POLYPHASE_KERNEL_WASM, 'base64'));
  const exports = new WebAssembly.Instance(compiled).exports as unknown as KernelExports;
  const input = table.coeffs.byteLength;
  const inputBytes = (BLOCK + table.stride) * 4;
  const output = input + inputBytes;
  const outputBytes = (Math.ceil(((BLOCK + table.stride) * table.up) / table.down) + 1) * 4;
  const pages = Math.ceil((output + outputBytes) / 65536);
  exports.memory.grow(pages - exports.memory.buffer.byteLength / 65536);
  new Float32Array(exports.memory.buffer, 0, table.coeffs.length).set(table.coeffs);
  const kernel = { exports, table, input, output };
  kernels.set(table, kernel);
  return kernel;
}

export class PolyphaseResampler {
  private readonly kernel: Kernel;
  private readonly half: number;
  /** Inputs the next outputs still read, and the absolute input index of history[0]. */
  private history: Float32Array;
  private historyStart: number;
  private inputCount = 0;
  /** Absolute index of the next output sample. */
  private nextOut = 0;
  private flushed = false;

  private constructor(
    readonly fromRate: number,
    readonly toRate: number,
    table: PolyphaseTable,
  ) {
    this.kernel = kernelFor(table);
    this.half = table.taps / 2;
    // Zeros before the signal, so the first outputs see a full window.
    this.history = new Float32Array(this.half - 1);
    this.historyStart = -(this.half - 1);
  }

  /** A resampler for these rates, or null when the ratio needs too big a table. */
  static create(fromRate: number, toRate: number, design = DEFAULT_RESAMPLER_DESIGN): PolyphaseResampler | null {
    const table = polyphaseTable(fromRate, toRate, design);
    return table ? new PolyphaseResampler(fromRate, toRate, table) : null;
  }

  /** Feeds input; returns the output samples that are complete. */
  process(input: Float32Array): Float32Array {
    if (this.flushed) throw new Error('resampler already flushed');
    this.inputCount += input.length;
    const parts: Float32Array[] = [];
    for (let at = 0; at < input.length; at += BLOCK)
      parts.push(this.run(input.subarray(at, Math.min(input.length, at + BLOCK)), Number.POSITIVE_INFINITY));
    return concatSamples(parts);
  }

  /** Ends the stream: the outputs up to ceil(N·up/down), reading zeros past the end. */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    const { up, down, stride } = this.kernel.table;
    return this.run(new Float32Array(stride), Math.ceil((this.inputCount * up) / down));
  }

  /** Nothing to free (the kernel's memory belongs to the thread); for symmetry with SpeexResampler. */
  destroy(): void {
    this.flushed = true;
  }

  /** Runs the kernel over history + block; keeps the inputs the next outputs read. */
  private run(block: Float32Array, limit: number): Float32Array {
    const { exports, table, input, output } = this.kernel;
    const { up, down, stride } = table;
    const half = this.half;
    const start = this.historyStart;
    const length = this.history.length + block.length;
    if (length > BLOCK + stride) {
      // More history than one block (cannot happen: the history is under `stride` samples).
      throw new Error('polyphase resampler: history longer than a block');
    }
    const heap = new Float32Array(exports.memory.buffer);
    heap.set(this.history, input >> 2);
    heap.set(block, (input >> 2) + this.history.length);
    const available = start + length; // absolute end (exclusive) of usable input
    const n = this.nextOut;
    // Outputs whose last (padded) tap, input floor(n·down/up) − half + stride, is available.
    const last = Math.min(limit, Math.floor(((available - stride + half) * up - 1) / down) + 1);
    const count = Math.max(0, last - n);
    let result = new Float32Array(0);
    if (count > 0) {
      const pos = n * down;
      const i = Math.floor(pos / up);
      exports.fir(input, 0, output, count, stride, up, down, i - half + 1 - start, pos - i * up);
      result = heap.slice(output >> 2, (output >> 2) + count);
    }
    this.nextOut = n + count;
    const keepFrom = Math.min(available, Math.floor((this.nextOut * down) / up) - half + 1);
    if (keepFrom > start) {
      this.history = heap.slice((input >> 2) + (keepFrom - start), (input >> 2) + length);
      this.historyStart = keepFrom;
    } else {
      this.history = heap.slice(input >> 2, (input >> 2) + length);
    }
    return result;
  }
}
