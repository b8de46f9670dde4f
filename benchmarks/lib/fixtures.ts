/**
 * Deterministic audio fixtures for the benchmarks: a speech-like synthetic signal (voiced syllables with
 * a glottal-ish buzz, fricative noise, pauses, a little background noise) written as 16-bit PCM WAV.
 * Nothing here depends on external tools; FLAC/MP3 variants are made with ffmpeg when it is installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

import { wavHeader16 } from '../../src/main/audio/wav';
import { seededRandom } from '../../src/main/export/split';

/** The core's seeded PRNG (mulberry32), so every run builds the same inputs. */
export const prng = seededRandom;

/** Fills `out` with a speech-like signal in roughly -0.7..0.7. */
export function synthSpeechInto(out: Float32Array, sampleRate: number, seed: number): void {
  const rnd = prng(seed);
  const f0Base = 90 + rnd() * 130;
  let i = 0;
  let lp1 = 0;
  let lp2 = 0;
  let phase = 0;
  while (i < out.length) {
    const kind = rnd();
    if (kind < 0.15) {
      // pause: background noise only
      const n = Math.min(out.length - i, Math.floor((0.05 + rnd() * 0.35) * sampleRate));
      for (let k = 0; k < n; k++) out[i + k] = (rnd() - 0.5) * 0.004;
      i += n;
    } else if (kind < 0.35) {
      // fricative: shaped noise burst
      const n = Math.min(out.length - i, Math.floor((0.03 + rnd() * 0.07) * sampleRate));
      const amp = 0.05 + rnd() * 0.1;
      for (let k = 0; k < n; k++) {
        const env = Math.sin((Math.PI * k) / n);
        out[i + k] = (rnd() - 0.5) * 2 * amp * env;
      }
      i += n;
    } else {
      // voiced syllable: sawtooth buzz at f0 with a glide, through two one-pole low-passes
      const n = Math.min(out.length - i, Math.floor((0.08 + rnd() * 0.17) * sampleRate));
      const amp = 0.2 + rnd() * 0.45;
      const f0a = f0Base * (0.85 + rnd() * 0.3);
      const f0b = f0a * (0.85 + rnd() * 0.3);
      const c1 = 0.15 + rnd() * 0.25;
      const c2 = 0.3 + rnd() * 0.3;
      for (let k = 0; k < n; k++) {
        const f0 = f0a + ((f0b - f0a) * k) / n;
        phase += f0 / sampleRate;
        if (phase >= 1) phase -= 1;
        const saw = 2 * phase - 1;
        lp1 += c1 * (saw - lp1);
        lp2 += c2 * (lp1 - lp2);
        const env = Math.sin((Math.PI * k) / n);
        out[i + k] = lp2 * amp * 1.6 * env + (rnd() - 0.5) * 0.004;
      }
      i += n;
    }
  }
}

export function synthSpeech(seconds: number, sampleRate: number, seed: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  synthSpeechInto(out, sampleRate, seed);
  return out;
}

/** Little-endian 16-bit PCM of the samples (clipped). */
export function pcm16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]! < -1 ? -1 : samples[i]! > 1 ? 1 : samples[i]!;
    out.writeInt16LE(Math.round(s * 32767), i * 2);
  }
  return out;
}

export function writeWav(file: string, samples: Float32Array, sampleRate: number): void {
  const data = pcm16(samples);
  fs.writeFileSync(file, Buffer.concat([wavHeader16(data.length / 2, sampleRate), data]));
}

/** Writes a long WAV in one-minute chunks, so the whole signal never sits in memory. */
export function writeLongWav(file: string, seconds: number, sampleRate: number, seed: number): void {
  const total = Math.round(seconds * sampleRate);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, wavHeader16(total, sampleRate));
    const chunk = new Float32Array(60 * sampleRate);
    for (let at = 0, k = 0; at < total; at += chunk.length, k++) {
      const n = Math.min(chunk.length, total - at);
      const view = chunk.subarray(0, n);
      synthSpeechInto(view, sampleRate, seed + k);
      fs.writeSync(fd, pcm16(view));
    }
  } finally {
    fs.closeSync(fd);
  }
}

export function hasTool(name: string): boolean {
  return spawnSync(name, ['-version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Converts files with ffmpeg, `batch` inputs per ffmpeg process (its start-up dominates for short
 * files) and `parallel` processes at a time. `args` are the output options, the same for every file.
 */
export async function ffmpegAll(
  jobs: { from: string; to: string }[],
  args: string[],
  options: { batch?: number; parallel?: number } = {},
): Promise<void> {
  const { batch = 25, parallel = 2 } = options;
  const batches: { from: string; to: string }[][] = [];
  for (let i = 0; i < jobs.length; i += batch) batches.push(jobs.slice(i, i + batch));
  const run = (b: { from: string; to: string }[]) =>
    new Promise<void>((resolve, reject) => {
      const argv = ['-hide_banner', '-loglevel', 'error', '-y'];
      for (const j of b) argv.push('-i', j.from);
      b.forEach((j, k) => argv.push('-map', `${k}:a`, ...args, j.to));
      const p = spawn('ffmpeg', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed: ${err.trim()}`))));
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) await run(batches[next++]!);
    }),
  );
}

/** A mono 32-bit float WAV of `samples` (exact model inputs, no 16-bit rounding). */
export function floatWav(samples: Float32Array, rate: number): Buffer {
  const out = Buffer.alloc(44 + samples.length * 4);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + samples.length * 4, 4);
  out.write('WAVEfmt ', 8, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(3, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 4, 28);
  out.writeUInt16LE(4, 32);
  out.writeUInt16LE(32, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(samples.length * 4, 40);
  Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).copy(out, 44);
  return out;
}
