/**
 * Opus front end (issue 16): decoding Ogg Opus straight to the model's 16 kHz (src/main/audio/ogg-opus.ts)
 * against audio-decode's 48 kHz decode + the polyphase resampler (the front end before it), against
 * the same 16 kHz decode without its band limit (why it has one), and against the training package's
 * decode (ffmpeg → 16 kHz int16, training/wavfusion/corpora.py).
 *
 *   node --import tsx benchmarks/opus-decode.bench.ts      # OPUS_REPS (3), OPUS_CLIPS_PER_CORPUS (120)
 *
 * Clips: real speech from ../shared/corpora where present (RAVDESS actors 01 and 15, and evenly spaced
 * TESS and nEMO clips, 16 kHz mono 32 kbit/s Opus), else espeak-ng sentences encoded the same way.
 * Speed: × real time of decode + resample to 16 kHz on one thread, all clips, median of interleaved
 * repetitions. Model effect: each front end's 16 kHz samples predicted by the demo bundle without
 * transcripts; max/mean |Δ probability| and top-label agreement between front ends.
 */
import decodeAudio from 'audio-decode';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeOggOpusBytes } from '../src/main/audio/ogg-opus';
import { resample } from '../src/main/audio/resampler';
import { floatWav } from './lib/fixtures';
import { downmix } from '../src/main/audio/signal';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work', 'opus-decode');
const CORPORA = path.join(ROOT, '..', 'shared', 'corpora');
const REPS = Number(process.env.OPUS_REPS ?? 3);
const PER_CORPUS = Number(process.env.OPUS_CLIPS_PER_CORPUS ?? 120);

function corpusClips(): { file: string; corpus: string }[] {
  const out: { file: string; corpus: string }[] = [];
  for (const [corpus, pick] of [
    ['ravdess-speech', (rel: string) => /^audio\/Actor_(01|15)\//.test(rel)],
    ['tess', null],
    ['nemo-pl', null],
  ] as const) {
    const manifest = path.join(CORPORA, corpus, 'manifest.csv');
    if (!fs.existsSync(manifest)) continue;
    const rels = fs
      .readFileSync(manifest, 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(',')[0]!);
    const chosen = pick
      ? rels.filter(pick)
      : rels.filter((_, i) => i % Math.max(1, Math.floor(rels.length / PER_CORPUS)) === 0);
    for (const rel of chosen.slice(0, PER_CORPUS)) out.push({ file: path.join(CORPORA, corpus, rel), corpus });
  }
  return out;
}

function syntheticClips(): { file: string; corpus: string }[] {
  const dir = path.join(WORK, 'espeak');
  fs.mkdirSync(dir, { recursive: true });
  const sentences = [
    'I cannot believe you did that again.',
    'The meeting starts at nine tomorrow morning.',
    'Please leave me alone, I am so tired.',
    'This is the best day of my whole life!',
  ];
  const out: { file: string; corpus: string }[] = [];
  for (const [i, s] of sentences.entries()) {
    for (const voice of ['en', 'en+f3', 'en-us', 'en+m3']) {
      const wav = path.join(dir, `${i}-${voice}.wav`);
      const opus = wav.replace(/\.wav$/, '.opus');
      if (!fs.existsSync(opus)) {
        execFileSync('espeak-ng', ['-v', voice, '-w', wav, s]);
        execFileSync('ffmpeg', [
          '-v',
          'error',
          '-y',
          '-i',
          wav,
          '-ar',
          '16000',
          '-ac',
          '1',
          '-c:a',
          'libopus',
          '-b:a',
          '32k',
          opus,
        ]);
      }
      out.push({ file: opus, corpus: 'espeak-ng' });
    }
  }
  return out;
}

type FrontEnd = (bytes: Uint8Array, file: string) => Promise<Float32Array>;

const FRONT_ENDS: [string, FrontEnd][] = [
  [
    'audio-decode at 48 kHz + polyphase resampler (before)',
    async (bytes) => {
      const d = await decodeAudio(bytes);
      return resample(downmix(d.channelData), d.sampleRate, 16000);
    },
  ],
  [
    'libopus straight to 16 kHz, ogg-opus.ts (after)',
    async (bytes) => downmix((await decodeOggOpusBytes(bytes, 16000)).channelData),
  ],
  [
    'libopus straight to 16 kHz without the band limit',
    async (bytes) => downmix((await decodeOggOpusBytes(bytes, 16000, { bandLimit: false })).channelData),
  ],
];

const TRAINING = 'ffmpeg → 16 kHz int16 (training/wavfusion/corpora.py)';
function trainingFrontEnd(file: string): Float32Array {
  const out = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-nostdin', '-i', file, '-f', 's16le', '-ac', '1', '-ar', '16000', '-'],
    {
      maxBuffer: 1 << 30,
    },
  );
  const s = new Int16Array(out.stdout.buffer, out.stdout.byteOffset, out.stdout.byteLength >> 1);
  return Float32Array.from(s, (v) => v / 32768);
}

async function main(): Promise<void> {
  let clips = corpusClips();
  const source = clips.length ? 'real speech from ../shared/corpora' : 'espeak-ng sentences (corpora absent)';
  if (!clips.length) clips = syntheticClips();
  const bytes = clips.map((c) => new Uint8Array(fs.readFileSync(c.file)));
  fs.mkdirSync(WORK, { recursive: true });

  // speed, interleaved repetitions
  const times = FRONT_ENDS.map(() => [] as number[]);
  let audioSeconds = 0;
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 ? [...FRONT_ENDS.keys()].reverse() : [...FRONT_ENDS.keys()];
    for (const k of order) {
      const t = performance.now();
      let seconds = 0;
      for (const [i, b] of bytes.entries()) seconds += (await FRONT_ENDS[k]![1](b, clips[i]!.file)).length / 16000;
      times[k]!.push(performance.now() - t);
      audioSeconds = seconds;
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

  // model effect
  const { InferenceEngine } = await import('../src/main/inference/engine');
  const engine = await InferenceEngine.load(path.join(ROOT, 'resources/models/wavfusion-demo'), { device: 'cpu' });
  const predictions = new Map<string, number[][]>();
  const predictFrom = async (name: string, samples: (i: number) => Promise<Float32Array> | Float32Array) => {
    const dir = path.join(WORK, name.replace(/[^a-z0-9]+/gi, '_').slice(0, 40));
    fs.mkdirSync(dir, { recursive: true });
    const requests = [];
    for (const i of clips.keys()) {
      const file = path.join(dir, `${i}.wav`);
      fs.writeFileSync(file, floatWav(await samples(i), 16000));
      requests.push({ key: String(i), path: file, start: null, end: null, text: null });
    }
    const p: number[][] = [];
    for await (const chunk of engine.predict(requests))
      for (const r of chunk) if (r.ok) p[Number(r.key)] = r.probabilities;
    predictions.set(name, p);
  };
  for (const [name, fe] of FRONT_ENDS) await predictFrom(name, (i) => fe(bytes[i]!, clips[i]!.file));
  await predictFrom(TRAINING, (i) => trainingFrontEnd(clips[i]!.file));
  await engine.close();

  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const compare = (a: string, b: string) => {
    const pa = predictions.get(a)!;
    const pb = predictions.get(b)!;
    let max = 0;
    let sum = 0;
    let n = 0;
    let same = 0;
    for (const i of clips.keys()) {
      pa[i]!.forEach((v, k) => {
        const d = Math.abs(v - pb[i]![k]!);
        max = Math.max(max, d);
        sum += d;
        n++;
      });
      if (argmax(pa[i]!) === argmax(pb[i]!)) same++;
    }
    return `| ${a} | ${b} | ${max.toFixed(4)} | ${(sum / n).toFixed(4)} | ${same}/${clips.length} (${((100 * same) / clips.length).toFixed(1)} %) |`;
  };
  const [before, after] = FRONT_ENDS.map(([n]) => n) as [string, string];
  const perCorpus = [...new Set(clips.map((c) => c.corpus))].map(
    (c) => `${c} ${clips.filter((x) => x.corpus === c).length}`,
  );
  const rows = [
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )}; ${clips.length} clips (${perCorpus.join(', ')}; ${source}), ${audioSeconds.toFixed(0)} s of audio, ${REPS} interleaved repetitions.`,
    '',
    '| front end (decode + resample to 16 kHz, one thread) | median time | × real time |',
    '| --- | --- | --- |',
    ...FRONT_ENDS.map(
      ([name], k) =>
        `| ${name} | ${median(times[k]!).toFixed(0)} ms | ${(audioSeconds / (median(times[k]!) / 1000)).toFixed(0)} |`,
    ),
    '',
    'Effect on the demo bundle (no transcripts):',
    '',
    '| front end | against | max abs Δ probability | mean abs Δ probability | same top label |',
    '| --- | --- | --- | --- | --- |',
    compare(after, before),
    compare(before, TRAINING),
    compare(after, TRAINING),
    compare(FRONT_ENDS[2]![0], before),
    compare(FRONT_ENDS[2]![0], TRAINING),
  ];
  console.log(rows.join('\n'));
  fs.writeFileSync(path.join(WORK, 'results.md'), rows.join('\n') + '\n');
}

await main();
