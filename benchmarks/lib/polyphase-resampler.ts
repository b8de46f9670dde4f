/**
 * The polyphase resampler's table (src/main/audio/polyphase-resampler.ts) with its inner loop in
 * plain JS instead of WebAssembly SIMD: a benchmark candidate only (benchmarks/resampler.bench.ts),
 * to show what the wasm kernel buys. Same outputs within float rounding.
 */
import {
  DEFAULT_RESAMPLER_DESIGN,
  polyphaseTable,
  type PolyphaseTable,
  type ResamplerDesign,
} from '../../src/main/audio/polyphase-resampler';
import type { StreamResampler } from '../../src/main/audio/resampler';

export class JsPolyphaseResampler implements StreamResampler {
  private readonly table: PolyphaseTable;
  private readonly half: number;
  private history: Float32Array;
  private historyStart: number;
  private inputCount = 0;
  private nextOut = 0;
  private flushed = false;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    design: ResamplerDesign = DEFAULT_RESAMPLER_DESIGN,
  ) {
    const table = polyphaseTable(fromRate, toRate, design);
    if (!table) throw new Error(`no polyphase table for ${fromRate} Hz → ${toRate} Hz`);
    this.table = table;
    this.half = table.taps / 2;
    this.history = new Float32Array(this.half - 1);
    this.historyStart = -(this.half - 1);
  }

  process(input: Float32Array): Float32Array {
    this.inputCount += input.length;
    const buf = new Float32Array(this.history.length + input.length);
    buf.set(this.history);
    buf.set(input, this.history.length);
    return this.run(buf, Number.POSITIVE_INFINITY);
  }

  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    const buf = new Float32Array(this.history.length + this.table.stride);
    buf.set(this.history);
    return this.run(buf, Math.ceil((this.inputCount * this.table.up) / this.table.down));
  }

  destroy(): void {
    this.flushed = true;
  }

  private run(buf: Float32Array, limit: number): Float32Array {
    const { up, down, stride, coeffs } = this.table;
    const half = this.half;
    const start = this.historyStart;
    const available = start + buf.length;
    let n = this.nextOut;
    let i = Math.floor((n * down) / up);
    let p = n * down - i * up;
    const last = Math.min(limit, Math.floor(((available - stride + half) * up - 1) / down) + 1);
    const count = Math.max(0, last - n);
    const out = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      const base = i - half + 1 - start;
      const c = p * stride;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < stride; j += 4) {
        s0 += buf[base + j]! * coeffs[c + j]!;
        s1 += buf[base + j + 1]! * coeffs[c + j + 1]!;
        s2 += buf[base + j + 2]! * coeffs[c + j + 2]!;
        s3 += buf[base + j + 3]! * coeffs[c + j + 3]!;
      }
      out[k] = s0 + s1 + s2 + s3;
      p += down;
      const step = Math.floor(p / up);
      i += step;
      p -= step * up;
    }
    this.nextOut = n += count;
    const keepFrom = Math.min(available, Math.floor((n * down) / up) - half + 1);
    this.history = keepFrom > start ? buf.slice(keepFrom - start) : buf;
    if (keepFrom > start) this.historyStart = keepFrom;
    return out;
  }
}
