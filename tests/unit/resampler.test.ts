import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { PolyphaseResampler } from '../../src/main/audio/polyphase-resampler';
import { createResampler, resample } from '../../src/main/audio/resampler';

/**
 * Quality bounds of the studio's resampler (resampler.ts: the polyphase wasm resampler, and Speex
 * for 44 057 Hz (a clock off by 57 Hz), a ratio whose polyphase table would be too big), measured on synthetic tones (the numbers behind
 * docs/benchmarks.md "Resampler"): passband ripple up to 0.9 × the output Nyquist frequency, alias
 * attenuation for tones between the output and the input Nyquist frequencies, timing, length and
 * chunked = whole.
 */
const AMP = 0.5;
const tone = (freq: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => AMP * Math.sin((2 * Math.PI * freq * i) / rate));

/** Gain of the tone at `freq` (least squares on sin/cos over the middle half). */
function gain(y: Float32Array, freq: number, rate: number): number {
  let ss = 0,
    cc = 0,
    sc = 0,
    ys = 0,
    yc = 0;
  for (let i = Math.floor(y.length / 4); i < Math.floor((3 * y.length) / 4); i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y[i]! * s;
    yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  return Math.hypot((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det) / AMP;
}
const rmsMiddle = (y: Float32Array) => {
  const part = y.subarray(Math.floor(y.length / 4), Math.floor((3 * y.length) / 4));
  return Math.sqrt(part.reduce((s, v) => s + v * v, 0) / part.length);
};

describe.each([
  [44100, 16000],
  [48000, 16000],
  [22050, 16000],
  [32000, 16000],
  [44057, 16000],
])('resampler %i Hz → %i Hz', (from, to) => {
  const nyquist = to / 2;

  it('passband ripple ≤ 0.01 dB from 50 Hz to 0.9 × the output Nyquist frequency', async () => {
    let ripple = 0;
    for (let f = 50; f <= 0.9 * nyquist; f += (0.9 * nyquist) / 12) {
      const y = await resample(tone(f, from, 1), from, to);
      ripple = Math.max(ripple, Math.abs(20 * Math.log10(gain(y, f, to))));
    }
    expect(ripple).toBeLessThan(0.01);
  });

  it('attenuates tones above the output Nyquist frequency by ≥ 95 dB (no aliasing)', async () => {
    let worst = Infinity;
    for (let f = nyquist; f <= 0.95 * (from / 2); f += (0.95 * (from / 2) - nyquist) / 10) {
      const y = await resample(tone(f, from, 1), from, to);
      worst = Math.min(worst, -20 * Math.log10(rmsMiddle(y) / (AMP / Math.SQRT2)));
    }
    expect(worst).toBeGreaterThan(95);
  });

  it('has no delay, gives ceil(N·to/from) samples, and chunked equals whole', async () => {
    const x = tone(440, from, 2);
    const whole = await resample(x, from, to);
    expect(whole.length).toBe(Math.ceil((x.length * to) / from));
    let err = 0;
    for (let i = 200; i < whole.length - 200; i++)
      err = Math.max(err, Math.abs(whole[i]! - AMP * Math.sin((2 * Math.PI * 440 * i) / to)));
    expect(err).toBeLessThan(1e-4);
    const r = await createResampler(from, to);
    const parts: number[] = [];
    for (let at = 0; at < x.length; at += 4099) parts.push(...r.process(x.subarray(at, at + 4099)));
    parts.push(...r.flush());
    r.destroy();
    expect(parts.length).toBe(whole.length);
    let diff = 0;
    parts.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - whole[i]!))));
    expect(diff).toBe(0);
  });
});

it('upsamples 8 kHz to 16 kHz with ≤ 0.01 dB ripple and leaves equal rates alone', async () => {
  for (const f of [100, 1000, 3000, 3600]) {
    const y = await resample(tone(f, 8000, 1), 8000, 16000);
    expect(Math.abs(20 * Math.log10(gain(y, f, 16000))), `${f} Hz`).toBeLessThan(0.01);
  }
  const x = tone(300, 16000, 0.1);
  expect(await resample(x, 16000, 16000)).toBe(x);
});

it('uses the polyphase kernel for the common rates and Speex where its table would be too big', () => {
  for (const from of [8000, 11025, 22050, 32000, 44100, 48000, 96000])
    expect(PolyphaseResampler.create(from, 16000)).not.toBeNull();
  expect(PolyphaseResampler.create(44057, 16000)).toBeNull();
});

it('the committed kernel bytes are the compiled polyphase-kernel.wat', () => {
  // exits 1 (and the call throws) when polyphase-kernel.wasm.ts is stale
  expect(execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { encoding: 'utf8' })).toContain(
    'up to date',
  );
});
