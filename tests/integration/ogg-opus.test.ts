import decodeAudio from 'audio-decode';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { decodeOggOpus, decodeOggOpusBytes, opusRateFor } from '../../src/main/audio/ogg-opus';
import { resample } from '../../src/main/audio/resampler';
import { downmix } from '../../src/main/audio/signal';
import { decodeMonoChunks } from '../../src/main/audio/decode-stream';
import { tempDir } from '../helpers/fixtures';

const dir = tempDir('ogg-opus');

/** Spoken English from espeak-ng encoded as Ogg Opus the way the shared corpora are (16 kHz mono, 32 kbit/s). */
function speechOpus(name: string, text: string, ffmpegArgs: string[] = ['-ar', '16000', '-ac', '1']): string {
  const wav = path.join(dir, `${name}.wav`);
  const out = path.join(dir, `${name}.opus`);
  execFileSync('espeak-ng', ['-w', wav, text]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', wav, ...ffmpegArgs, '-c:a', 'libopus', '-b:a', '32k', out]);
  return out;
}

/** The lag (in samples, within ±maxLag) at which `b` best matches `a`, and the correlation there. */
function bestLag(a: Float32Array, b: Float32Array, maxLag = 400): { lag: number; correlation: number } {
  const n = Math.min(a.length, b.length) - 2 * maxLag;
  let best = { lag: 0, correlation: -1 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = maxLag; i < maxLag + n; i++) {
      const x = a[i]!;
      const y = b[i + lag]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const correlation = ab / Math.sqrt(aa * bb);
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

/** Energy (dB) of `x` between `lo` and `hi` Hz: Hann-windowed 512-point DFTs over the whole signal. */
function bandEnergyDb(x: Float32Array, rate: number, lo: number, hi: number): number {
  const n = 512;
  const bins: number[] = [];
  for (let k = Math.ceil((lo * n) / rate); k < (hi * n) / rate; k++) bins.push(k);
  let energy = 0;
  for (let start = 0; start + n <= x.length; start += n) {
    for (const k of bins) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < n; i++) {
        const v = x[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
        re += v * Math.cos((2 * Math.PI * k * i) / n);
        im -= v * Math.sin((2 * Math.PI * k * i) / n);
      }
      energy += re * re + im * im;
    }
  }
  return 10 * Math.log10(energy);
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const SPEECH = 'The quick brown fox jumps over the lazy dog, and then it sleeps all afternoon.';

describe('Ogg Opus at the rate the model needs', () => {
  it('picks the lowest rate libopus decodes to that is at least the one wanted', () => {
    expect(opusRateFor(16000)).toBe(16000);
    expect(opusRateFor(22050)).toBe(24000);
    expect(opusRateFor(8000)).toBe(8000);
    expect(opusRateFor(44100)).toBe(48000);
    expect(opusRateFor(96000)).toBe(48000);
  });

  it('gives the 48 kHz decode resampled to 16 kHz: same length, same alignment, same signal', async () => {
    const file = speechOpus('speech16', SPEECH);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const at48 = await decodeAudio(bytes);
    const reference = await resample(at48.channelData[0]!, at48.sampleRate, 16000);
    const at16 = await decodeOggOpusBytes(bytes, 16000);
    expect(at16.sampleRate).toBe(16000);
    // pre-skip and the end trim are in 48 kHz units in the headers: unscaled, the start would lose 208
    // samples at 16 kHz and the end would not be trimmed
    expect(Math.abs(at16.channelData[0]!.length - at48.channelData[0]!.length / 3)).toBeLessThanOrEqual(1);
    const { lag, correlation } = bestLag(reference, at16.channelData[0]!);
    expect(Math.abs(lag)).toBeLessThanOrEqual(1);
    expect(correlation).toBeGreaterThan(0.97);
    // band-limited like the resampled 48 kHz decode: libopus's own 16 kHz output keeps ~12 dB more
    // between 7.6 and 8 kHz, which the model hears (docs/benchmarks.md)
    const top = (x: Float32Array) => bandEnergyDb(x, 16000, 7600, 8000);
    expect(Math.abs(top(at16.channelData[0]!) - top(reference))).toBeLessThan(3);
    const speech = (x: Float32Array) => bandEnergyDb(x, 16000, 300, 3000);
    expect(Math.abs(speech(at16.channelData[0]!) - speech(reference))).toBeLessThan(0.5);
  });

  it('decodes a 48 kHz stereo stream at 16 kHz and keeps both channels', async () => {
    const file = speechOpus('stereo48', SPEECH, ['-ar', '48000', '-ac', '2']);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const at48 = await decodeAudio(bytes);
    const at16 = await decodeOggOpusBytes(bytes, 16000);
    expect(at16.channelData).toHaveLength(2);
    const reference = await resample(downmix(at48.channelData), 48000, 16000);
    const { lag, correlation } = bestLag(reference, downmix(at16.channelData));
    expect(Math.abs(lag)).toBeLessThanOrEqual(1);
    expect(correlation).toBeGreaterThan(0.97);
  });

  it('gives the same samples fed in small pieces as fed whole, with one decoder reused across files', async () => {
    const file = speechOpus('pieces', SPEECH);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const whole = (await decodeOggOpusBytes(bytes, 16000)).channelData[0]!;
    for (const size of [1000, 4096, 65536]) {
      const parts: Float32Array[] = [];
      for await (const chunk of decodeOggOpus(pieces(bytes, size), 16000)) parts.push(chunk.channelData[0]!);
      const joined = Float32Array.from(parts.flatMap((p) => Array.from(p)));
      expect(joined).toEqual(whole);
    }
  });

  it('decodes chained streams one after another, each trimmed to its own length', async () => {
    const a = new Uint8Array(fs.readFileSync(speechOpus('chain-a', 'First part of the chain.')));
    const b = new Uint8Array(fs.readFileSync(speechOpus('chain-b', 'And this is the second, longer part of it.')));
    const chained = new Uint8Array(a.length + b.length);
    chained.set(a);
    chained.set(b, a.length);
    const lengthA = (await decodeOggOpusBytes(a, 16000)).channelData[0]!.length;
    const lengthB = (await decodeOggOpusBytes(b, 16000)).channelData[0]!.length;
    const both = (await decodeOggOpusBytes(chained, 16000)).channelData[0]!.length;
    expect(Math.abs(both - (lengthA + lengthB))).toBeLessThanOrEqual(2);
  });

  it('keeps what a truncated file holds, and names a file that is not Opus', async () => {
    const file = speechOpus('cut', SPEECH);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const whole = (await decodeOggOpusBytes(bytes, 16000)).channelData[0]!.length;
    const cut = path.join(dir, 'cut-half.opus');
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const half = await decodeAudioFile(cut, { preferredRate: 16000 });
    expect(half.sampleRate).toBe(16000);
    expect(half.channels[0]!.length).toBeGreaterThan(whole * 0.3);
    expect(half.channels[0]!.length).toBeLessThan(whole * 0.7);

    // the Opus headers, then noise where the audio pages were: no audio, and a reason
    const junk = path.join(dir, 'junk.opus');
    const firstAudioPage = Buffer.from(bytes).indexOf('OggS', Buffer.from(bytes).indexOf('OpusTags'));
    const noise = Uint8Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251);
    fs.writeFileSync(junk, Buffer.concat([bytes.subarray(0, firstAudioPage), noise]));
    await expect(decodeAudioFile(junk, { preferredRate: 16000 })).rejects.toThrow(/no audio samples in this OPUS/);
  });

  it('is used by whole-file and streamed decoding only when the caller says which rate it needs', async () => {
    const file = speechOpus('routes', SPEECH);
    expect((await decodeAudioFile(file)).sampleRate).toBe(48000);
    const whole = await decodeAudioFile(file, { preferredRate: 16000 });
    expect(whole.sampleRate).toBe(16000);
    const streamed: Float32Array[] = [];
    for await (const { mono, sampleRate } of decodeMonoChunks(file, 'opus', 16000)) {
      expect(sampleRate).toBe(16000);
      streamed.push(mono);
    }
    expect(Float32Array.from(streamed.flatMap((p) => Array.from(p)))).toEqual(whole.channels[0]);
    for await (const { sampleRate } of decodeMonoChunks(file, 'opus')) expect(sampleRate).toBe(48000);
  });
});
