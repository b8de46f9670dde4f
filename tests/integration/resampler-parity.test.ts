import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { resample } from '../../src/main/audio/resampler';
import { downmix } from '../../src/main/audio/signal';
import { AUDIO_FIXTURES, REPO_ROOT, tempDir } from '../helpers/fixtures';

/**
 * The studio's resampler (src/main/audio/resampler.ts) and the training package's
 * (training/wavfusion/audio.py `resample`: the same polyphase table, applied with torch conv1d)
 * give the same 16 kHz samples, so what the model is trained and checked on in PyTorch is what
 * the studio feeds it. Real speech (the 44.1 kHz stereo fixture) and seeded noise at the other
 * common rates, down and up.
 */
it('gives the training package’s samples at every common rate (≤ 2e-6)', async () => {
  const dir = tempDir('resampler-parity-');
  try {
    const speech = await decodeAudioFile(path.join(AUDIO_FIXTURES, 'speech-44k-stereo.wav'));
    let seed = 7;
    const noise = (n: number) =>
      Float32Array.from({ length: n }, () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return (seed / 2 ** 31 - 0.5) * 0.8;
      });
    const cases: [string, Float32Array, number][] = [
      ['speech 44.1 kHz', downmix(speech.channels), speech.sampleRate],
      ['noise 48 kHz', noise(48000 * 2), 48000],
      ['noise 22.05 kHz', noise(22050 * 2 + 7), 22050],
      ['noise 32 kHz', noise(32000 + 3), 32000],
      ['noise 8 kHz', noise(8000 * 2 + 1), 8000],
    ];
    const jobs = cases.map(([, x, rate], i) => {
      const input = path.join(dir, `${i}.in.f32`);
      fs.writeFileSync(input, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
      return [input, rate, path.join(dir, `${i}.out.f32`)];
    });
    const script = [
      'import json, sys, numpy as np',
      'from wavfusion.audio import resample',
      'for src, rate, dst in json.load(sys.stdin):',
      '    resample(np.fromfile(src, dtype="<f4"), rate, 16000).astype("<f4").tofile(dst)',
    ].join('\n');
    const py = spawnSync('/usr/bin/python3', ['-c', script], {
      input: JSON.stringify(jobs),
      env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'training') },
      encoding: 'utf8',
    });
    expect(py.status, py.stderr).toBe(0);
    for (const [i, [name, x, rate]] of cases.entries()) {
      const studio = await resample(x, rate, 16000);
      const raw = fs.readFileSync(jobs[i]![2] as string);
      const training = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      expect(training.length, name).toBe(studio.length);
      let worst = 0;
      for (let k = 0; k < studio.length; k++) worst = Math.max(worst, Math.abs(studio[k]! - training[k]!));
      expect(worst, name).toBeLessThan(2e-6);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
