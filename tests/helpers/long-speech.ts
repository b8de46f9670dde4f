import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encodeWav16 } from '../../src/main/audio/wav';

/** Sentences without commas, so that espeak-ng makes no long pause inside one. */
export const SENTENCES = [
  'The morning train was late again today',
  'I cannot believe you said that to her',
  'We should paint the kitchen a brighter colour',
  'Please bring the blue folder to the meeting',
  'My brother moved to a small town near the coast',
  'That was the best concert I have ever seen',
  'Nobody told me the shop would close so early',
  'The children played in the garden until dark',
  'Turn left at the church and keep going straight',
  'She finally answered the letter after three weeks',
  'Our team won the match in the last minute',
  'It is getting cold so take a warm jacket',
];

export interface LongSpeech {
  file: string;
  sampleRate: number;
  duration: number;
  /** Where each spoken clip is (seconds), trimmed to its first and last audible sample. */
  speech: { start: number; end: number }[];
  /** The pauses between clips (seconds). */
  gaps: number[];
  /** The RMS of the white noise added (0: none). */
  noise: number;
}

/** One sentence spoken by espeak-ng, as mono float samples at `rate`, trimmed of leading/trailing silence. */
function speak(text: string, rate: number, dir: string, voice: string, i: number): Float32Array {
  const wav = path.join(dir, `clip-${i}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-s', '165', '-w', wav, text]);
  const raw = execFileSync(
    'sox',
    [wav, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-c', '1', '-r', String(rate), '-'],
    {
      maxBuffer: 1 << 28,
    },
  );
  const samples = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  let from = 0;
  let to = samples.length;
  while (from < to && Math.abs(samples[from]!) < 0.01) from++;
  while (to > from && Math.abs(samples[to - 1]!) < 0.01) to--;
  return samples.slice(from, to);
}

/** A seeded LCG, so that every run builds the same recording. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A long recording made of espeak-ng sentences with known pauses between them (0.6-2.5 s, seeded),
 * optionally with white noise under everything (`noise`: its RMS, e.g. 0.005). The pauses' lengths
 * and the clips' boundaries are known exactly.
 */
export function makeLongSpeech(
  dir: string,
  options: { sentences?: number; sampleRate?: number; noise?: number; seed?: number; voices?: string[] } = {},
): LongSpeech {
  const rate = options.sampleRate ?? 16000;
  const n = options.sentences ?? SENTENCES.length;
  const voices = options.voices ?? ['en-us', 'en-gb', 'en-us+f3'];
  const rand = random(options.seed ?? 7);
  const clips = Array.from({ length: n }, (_, i) =>
    speak(SENTENCES[i % SENTENCES.length]!, rate, dir, voices[i % voices.length]!, i),
  );
  const gaps = Array.from({ length: n + 1 }, () => 0.6 + rand() * 1.9);
  const total = clips.reduce((a, c) => a + c.length, 0) + gaps.reduce((a, g) => a + Math.round(g * rate), 0);
  const out = new Float32Array(total);
  const speech: LongSpeech['speech'] = [];
  let at = 0;
  for (let i = 0; i <= n; i++) {
    at += Math.round(gaps[i]! * rate);
    const clip = clips[i];
    if (!clip) break;
    out.set(clip, at);
    speech.push({ start: at / rate, end: (at + clip.length) / rate });
    at += clip.length;
  }
  if (options.noise) {
    // Uniform noise with the requested RMS (uniform on [-a, a] has RMS a/√3).
    const a = options.noise * Math.sqrt(3);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + (rand() * 2 - 1) * a;
  }
  const file = path.join(dir, `long-${rate}.wav`);
  fs.writeFileSync(file, encodeWav16(out, rate));
  return { file, sampleRate: rate, duration: total / rate, speech, gaps, noise: options.noise ?? 0 };
}

/**
 * Boundary precision and recall at a tolerance: a found boundary (a start or an end) is right when a
 * true boundary of the same kind lies within `tol` seconds (each true boundary matched at most once).
 */
export function boundaryScores(
  found: readonly { start: number; end: number }[],
  truth: readonly { start: number; end: number }[],
  tol: number,
): { precision: number; recall: number } {
  let matched = 0;
  for (const kind of ['start', 'end'] as const) {
    const used = new Set<number>();
    for (const f of found) {
      const j = truth.findIndex((t, k) => !used.has(k) && Math.abs(t[kind] - f[kind]) <= tol);
      if (j >= 0) {
        used.add(j);
        matched++;
      }
    }
  }
  return { precision: matched / (2 * found.length || 1), recall: matched / (2 * truth.length) };
}

/** A session recording: where each spoken clip lies and which pauses hold quiet noise instead of silence. */
export interface Session extends LongSpeech {
  /** The pauses (seconds) in order, and whether each is noise (sox's white noise) rather than silence. */
  pauses: { start: number; end: number; noise: boolean }[];
}

/**
 * A session of about `seconds` (e.g. 20 minutes) built cheaply, the way a corpus session is cut from:
 * each sentence is spoken once per voice by espeak-ng (24 clips), and the clips are concatenated in a
 * seeded order with pauses (0.7-2.5 s) between them, of silence or of quiet white noise made by sox
 * (`noise`: its amplitude, 0.01 ≈ -43 dBFS). Clip boundaries are known to the sample.
 */
export function makeSession(
  dir: string,
  options: { seconds: number; sampleRate?: number; seed?: number; noise?: number; voices?: string[] },
): Session {
  const rate = options.sampleRate ?? 16000;
  const voices = options.voices ?? ['en-us', 'en-gb'];
  const rand = random(options.seed ?? 11);
  const clips = SENTENCES.flatMap((text, i) =>
    voices.map((voice, v) => speak(text, rate, dir, voice, i * voices.length + v)),
  );
  const lengths = [0.7, 1.0, 1.3, 1.6, 2.0, 2.5];
  const pauseOf = (seconds: number, noise: boolean): Float32Array => {
    const args = ['-n', '-r', String(rate), '-c', '1', '-t', 'raw', '-e', 'floating-point', '-b', '32', '-'];
    const raw = execFileSync(
      'sox',
      noise
        ? [...args, 'synth', String(seconds), 'whitenoise', 'vol', String(options.noise ?? 0.01)]
        : [...args, 'trim', '0', String(seconds)],
      { maxBuffer: 1 << 26 },
    );
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  };
  const pauses = lengths.flatMap((s) => [pauseOf(s, false), pauseOf(s, true)]);
  const parts: Float32Array[] = [];
  const speech: LongSpeech['speech'] = [];
  const gaps: number[] = [];
  const pauseSpans: Session['pauses'] = [];
  let at = 0;
  const addPause = () => {
    const k = Math.floor(rand() * pauses.length);
    const p = pauses[k]!;
    parts.push(p);
    gaps.push(p.length / rate);
    pauseSpans.push({ start: at / rate, end: (at + p.length) / rate, noise: k % 2 === 1 });
    at += p.length;
  };
  addPause();
  while (at / rate < options.seconds) {
    const clip = clips[Math.floor(rand() * clips.length)]!;
    parts.push(clip);
    speech.push({ start: at / rate, end: (at + clip.length) / rate });
    at += clip.length;
    addPause();
  }
  const out = new Float32Array(at);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  const file = path.join(dir, `session-${rate}.wav`);
  fs.writeFileSync(file, encodeWav16(out, rate));
  for (const f of fs.readdirSync(dir)) if (f.startsWith('clip-')) fs.rmSync(path.join(dir, f));
  return {
    file,
    sampleRate: rate,
    duration: at / rate,
    speech,
    gaps,
    noise: options.noise ?? 0.01,
    pauses: pauseSpans,
  };
}
