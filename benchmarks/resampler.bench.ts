/**
 * Resampler comparison (issue 16): today's libsamplerate converter (SRC_SINC_MEDIUM_QUALITY) against
 * libsamplerate's other converters, the Speex resampler (WebAssembly SIMD, `@echogarden/speex-resampler-wasm`;
 * quality 7 is src/main/audio/speex-resampler.ts, the fallback) and the polyphase windowed-sinc FIR,
 * its inner loop in WebAssembly SIMD (src/main/audio/polyphase-resampler.ts, the one chosen) and the
 * same table in plain JS (benchmarks/lib/polyphase-resampler.ts).
 *
 *   node --import tsx benchmarks/resampler.bench.ts            # quality + speed
 *   RESAMPLER_MODEL=1 node --import tsx benchmarks/resampler.bench.ts   # + effect on model outputs
 *
 * Quality on pure tones (amplitude 0.5, 2 s, the middle second analysed): passband ripple = max |gain dB|
 * over tones from 50 Hz to 0.9 × the output Nyquist frequency (gain by least squares on the known
 * frequency); stopband attenuation = −20 log10(output RMS / input RMS) for the worst tone between
 * the output Nyquist and 0.95 × the input Nyquist (everything coming out is aliasing). Speed: × real
 * time on 30 s of speech-band noise, median of interleaved repetitions (the machine is shared: compare
 * rows of one run). Model effect: real clips (tests/fixtures/audio, the demo corpus upsampled with sox
 * to 44.1 and 48 kHz) through each resampler to 16 kHz float WAVs, predicted by the demo bundle; max
 * |Δ probability| and top-label agreement against the training package's front end (and torchaudio's
 * default resampler beside them, which that front end used before).
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudioFile } from '../src/main/audio/decode';
import { downmix } from '../src/main/audio/signal';
import { floatWav } from './lib/fixtures';
import { JsPolyphaseResampler } from './lib/polyphase-resampler';
import {
  DEFAULT_RESAMPLER_DESIGN,
  PolyphaseResampler as WasmPolyphase,
  type ResamplerDesign,
} from '../src/main/audio/polyphase-resampler';
import { resampleWhole } from '../src/main/audio/resampler';
import { SpeexResampler } from '../src/main/audio/speex-resampler';

const { ConverterType, create } = libsamplerate;
const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'benchmarks', '.work', 'resampler');

type Resample = (x: Float32Array, from: number, to: number) => Promise<Float32Array>;

const src =
  (type: (typeof ConverterType)[keyof typeof ConverterType]): Resample =>
  async (x, from, to) => {
    const c = await create(1, from, to, { converterType: type });
    try {
      return c.simple(x);
    } finally {
      c.destroy();
    }
  };
const fir =
  (design: ResamplerDesign): Resample =>
  (x, from, to) =>
    Promise.resolve(resampleWhole(new JsPolyphaseResampler(from, to, design), x));

const speex =
  (quality: number): Resample =>
  async (x, from, to) =>
    resampleWhole(await SpeexResampler.create(from, to, quality), x);
const wasmFir =
  (design: ResamplerDesign): Resample =>
  (x, from, to) =>
    Promise.resolve(resampleWhole(WasmPolyphase.create(from, to, design)!, x));

function tone(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}
/** Gain of a tone at `freq` in y (least squares on sin/cos over the middle half). */
function toneGain(y: Float32Array, freq: number, rate: number, amp = 0.5): number {
  const from = Math.floor(y.length / 4);
  const to = Math.floor((3 * y.length) / 4);
  let ss = 0,
    cc = 0,
    sc = 0,
    ys = 0,
    yc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y[i]! * s;
    yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  return Math.hypot(a, b) / amp;
}
function rmsMiddle(y: Float32Array): number {
  const from = Math.floor(y.length / 4);
  const to = Math.floor((3 * y.length) / 4);
  let s = 0;
  for (let i = from; i < to; i++) s += y[i]! * y[i]!;
  return Math.sqrt(s / (to - from));
}

export async function quality(r: Resample, from: number, to: number) {
  const nyqOut = Math.min(from, to) / 2;
  let ripple = 0;
  for (let f = 50; f <= 0.9 * nyqOut; f += 0.9 * nyqOut < 4000 ? 97 : 173) {
    const g = toneGain(await r(tone(f, from, 2), from, to), f, to);
    ripple = Math.max(ripple, Math.abs(20 * Math.log10(g)));
  }
  let attenuation = Infinity;
  if (from > to) {
    for (let f = nyqOut * 1.0; f <= (0.95 * from) / 2; f += 211) {
      const y = await r(tone(f, from, 2), from, to);
      attenuation = Math.min(attenuation, -20 * Math.log10(rmsMiddle(y) / (0.5 / Math.SQRT2)));
    }
  }
  return { ripple, attenuation };
}

/** Speech-band noise (filtered white noise) as a speed input. */
function noise(rate: number, seconds: number): Float32Array {
  const x = new Float32Array(rate * seconds);
  let s = 12345,
    y = 0;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    y = 0.9 * y + 0.1 * (s / 2 ** 32 - 0.5);
    x[i] = y;
  }
  return x;
}

async function main() {
  const candidates: [string, Resample][] = [
    ['libsamplerate SINC_MEDIUM (before Speex)', src(ConverterType.SRC_SINC_MEDIUM_QUALITY)],
    ['libsamplerate SINC_FASTEST', src(ConverterType.SRC_SINC_FASTEST)],
    ['libsamplerate LINEAR', src(ConverterType.SRC_LINEAR)],
    ['Speex q7 (src/main/audio/speex-resampler.ts; the fallback)', speex(7)],
    ['Speex q5', speex(5)],
    ['Speex q3', speex(3)],
    ['polyphase FIR, wasm SIMD (src/main/audio/polyphase-resampler.ts) — chosen', wasmFir(DEFAULT_RESAMPLER_DESIGN)],
    ['polyphase FIR, wasm SIMD, 80 dB', wasmFir({ passband: 0.9, stopband: 1.0, attenuationDb: 80 })],
    ['polyphase FIR in plain JS (same table)', fir(DEFAULT_RESAMPLER_DESIGN)],
  ];
  const ratios: [number, number][] = [
    [44100, 16000],
    [48000, 16000],
    [22050, 16000],
    [32000, 16000],
  ];
  const reps = Number(process.env.RESAMPLER_REPS ?? 5);
  const rows: string[] = [];
  rows.push('| resampler | ratio | × real time (median) | passband ripple | stopband attenuation |');
  rows.push('| --- | --- | --- | --- | --- |');
  const results: Record<string, unknown>[] = [];
  for (const [from, to] of ratios) {
    const input = noise(from, 30);
    const times = new Map<string, number[]>();
    for (let rep = 0; rep < reps; rep++) {
      for (const [name, r] of rep % 2 ? [...candidates].reverse() : candidates) {
        const t0 = performance.now();
        await r(input, from, to);
        const ms = performance.now() - t0;
        times.set(name, [...(times.get(name) ?? []), ms]);
      }
    }
    for (const [name, r] of candidates) {
      const t = times.get(name)!.sort((a, b) => a - b);
      const median = t[Math.floor(t.length / 2)]!;
      const q = await quality(r, from, to);
      results.push({ name, from, to, xrt: 30000 / median, ...q });
      rows.push(
        `| ${name} | ${from / 1000}k→${to / 1000}k | ${(30000 / median).toFixed(0)} | ${q.ripple.toFixed(4)} dB | ${q.attenuation.toFixed(1)} dB |`,
      );
      console.error(rows.at(-1));
    }
  }

  if (process.env.RESAMPLER_MODEL === '1') {
    rows.push('', ...(await modelEffect(candidates)));
  }
  fs.mkdirSync(WORK, { recursive: true });
  fs.writeFileSync(path.join(WORK, 'results.json'), JSON.stringify({ results, load: os.loadavg() }, null, 2));
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log(rows.join('\n'));
}

async function modelEffect(candidates: [string, Resample][]): Promise<string[]> {
  const { InferenceEngine } = await import('../src/main/inference/engine');
  // Real clips: the fixtures' speech, the demo corpus upsampled to 44.1 and 48 kHz (sox, -v: very high quality).
  const clips: string[] = [path.join(ROOT, 'tests/fixtures/audio/speech-44k-stereo.wav')];
  const corpus = path.join(ROOT, 'resources/demo/corpus');
  const up = path.join(WORK, 'clips');
  fs.mkdirSync(up, { recursive: true });
  for (const spk of fs.readdirSync(corpus)) {
    for (const f of fs.readdirSync(path.join(corpus, spk)).filter((n) => n.endsWith('.wav'))) {
      for (const rate of [44100, 48000]) {
        const out = path.join(up, `${spk}_${path.basename(f, '.wav')}_${rate}.wav`);
        if (!fs.existsSync(out)) spawnSync('sox', [path.join(corpus, spk, f), '-r', String(rate), out, 'rate', '-v']);
        clips.push(out);
      }
    }
  }
  const fixturesAndDemo = clips.length;
  // Real acted speech without transcripts, where the corpora are present: RAVDESS actors 01 and 15
  // (held out from the demo bundle's training), 16 kHz Opus converted to 44.1 kHz WAV by ffmpeg.
  const ravdess = path.join(ROOT, '..', 'shared', 'corpora', 'ravdess-speech');
  if (fs.existsSync(path.join(ravdess, 'manifest.csv'))) {
    const rows = fs
      .readFileSync(path.join(ravdess, 'manifest.csv'), 'utf8')
      .split('\n')
      .filter((l) => /^audio\/Actor_(01|15)\//.test(l));
    for (const row of rows) {
      const rel = row.split(',')[0]!;
      const out = path.join(up, `ravdess_${path.basename(rel, '.opus')}_44100.wav`);
      if (!fs.existsSync(out)) spawnSync('ffmpeg', ['-v', 'error', '-i', path.join(ravdess, rel), '-ar', '44100', out]);
      clips.push(out);
    }
  }
  const texts = clips.map((c) => {
    const m = /(spk_[a-d])_(spk_[a-d]_\d+)_\d+\.wav$/.exec(c);
    return m ? fs.readFileSync(path.join(corpus, m[1]!, `${m[2]}.txt`), 'utf8') : null;
  });
  const engine = await InferenceEngine.load(path.join(ROOT, 'resources/models/wavfusion-demo'), { device: 'cpu' });
  const probs = new Map<string, number[][]>();
  const predict = async (files: string[]) => {
    const requests = files.map((file, i) => ({
      key: String(i),
      path: file,
      start: null,
      end: null,
      text: texts[i] ?? null,
    }));
    const p: number[][] = [];
    for await (const chunk of engine.predict(requests))
      for (const res of chunk) if (res.ok) p[Number(res.key)] = res.probabilities;
    return p;
  };
  // The reference: the training package's front end (wavfusion.audio.load_audio: mean downmix + its
  // resample), i.e. what the PyTorch reference feeds model.pt on these files; beside it torchaudio's
  // default resampler, which that front end used before it took the studio's design.
  const REFERENCE = 'training/wavfusion/audio.py (the PyTorch reference front end)';
  const pythonFrontEnd = async (name: string, resampleExpr: string) => {
    const dir = path.join(WORK, 'model-inputs', name.replace(/[^a-z0-9]+/gi, '_'));
    fs.mkdirSync(dir, { recursive: true });
    const files = clips.map((_, i) => path.join(dir, `${i}.wav`));
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        [
          'import json, sys, numpy as np, torch, torchaudio',
          'from wavfusion.audio import read_wav, resample',
          'for src, dst in json.load(sys.stdin):',
          '    x, sr = read_wav(src)',
          '    mono = x.mean(0)',
          `    y = np.asarray(${resampleExpr}, dtype="<f4")`,
          '    head = b"RIFF" + (36 + 4 * len(y)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")',
          '    head += (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + (16000).to_bytes(4, "little")',
          '    head += (64000).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")',
          '    open(dst, "wb").write(head + b"data" + (4 * len(y)).to_bytes(4, "little") + y.tobytes())',
        ].join('\n'),
      ],
      {
        input: JSON.stringify(clips.map((c, i) => [c, files[i]])),
        env: { ...process.env, PYTHONPATH: path.join(ROOT, 'training') },
        encoding: 'utf8',
      },
    );
    if (py.status !== 0) throw new Error(`${name} failed: ${py.stderr}`);
    probs.set(name, await predict(files));
  };
  await pythonFrontEnd(REFERENCE, 'resample(mono, sr, 16000)');
  const TORCHAUDIO = 'torchaudio.functional.resample defaults (the training front end before 2026-11-27)';
  await pythonFrontEnd(TORCHAUDIO, 'torchaudio.functional.resample(torch.from_numpy(mono), sr, 16000).numpy()');
  for (const [name, r] of candidates) {
    const dir = path.join(WORK, 'model-inputs', name.replace(/[^a-z0-9]+/gi, '_'));
    fs.mkdirSync(dir, { recursive: true });
    const files = [];
    for (const [i, clip] of clips.entries()) {
      const audio = await decodeAudioFile(clip);
      const x = await r(downmix(audio.channels), audio.sampleRate, 16000);
      const file = path.join(dir, `${i}.wav`);
      fs.writeFileSync(file, floatWav(x, 16000));
      files.push(file);
    }
    probs.set(name, await predict(files));
  }
  await engine.close();
  const ref = probs.get(REFERENCE)!;
  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const rows = [
    `Model effect: ${clips.length} clips (1 fixture at 44.1 kHz stereo; ${fixturesAndDemo - 1} demo-corpus clips upsampled to 44.1/48 kHz; ${clips.length - fixturesAndDemo} RAVDESS clips at 44.1 kHz, no transcripts), demo bundle, against ${REFERENCE}`,
    '',
    '| resampler | max abs Δ probability | mean abs Δ probability | same top label | of them RAVDESS |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const name of [TORCHAUDIO, ...candidates.map(([n]) => n)]) {
    const p = probs.get(name)!;
    let max = 0,
      sum = 0,
      n = 0,
      same = 0,
      sameRavdess = 0;
    ref.forEach((r, i) => {
      const q = p[i]!;
      r.forEach((v, k) => {
        const d = Math.abs(v - q[k]!);
        max = Math.max(max, d);
        sum += d;
        n++;
      });
      if (argmax(r) === argmax(q)) {
        same++;
        if (i >= fixturesAndDemo) sameRavdess++;
      }
    });
    rows.push(
      `| ${name} | ${max.toExponential(2)} | ${(sum / n).toExponential(2)} | ${same}/${ref.length} | ${sameRavdess}/${ref.length - fixturesAndDemo} |`,
    );
  }
  return rows;
}

await main();
