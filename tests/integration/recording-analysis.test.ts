import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computePeaks } from '../../src/main/audio/signal';
import { analyseRecording, PeakAccumulator } from '../../src/main/import/recording-analysis';
import { AUDIO_FIXTURES, REPO_ROOT, tempDir } from '../helpers/fixtures';

const dir = tempDir('recording-analysis-');

/**
 * Peak RSS growth (MiB, getrusage maxRSS) of analysing `file` in a fresh Node process: in this one,
 * memory freed by earlier work is reused without showing as growth.
 */
function analysisPeakGrowth(file: string, streamAboveBytes: number): number {
  const module = path.join(REPO_ROOT, 'src/main/import/recording-analysis.ts');
  const script = [
    `const { analyseRecording } = await import(${JSON.stringify(module)});`,
    'const before = process.resourceUsage().maxRSS;',
    `await analyseRecording(${JSON.stringify(file)}, 100, { streamAboveBytes: ${streamAboveBytes} });`,
    'console.log((process.resourceUsage().maxRSS - before) / 1024);',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return Number(out.trim().split('\n').at(-1));
}

describe('recording analysis for import', () => {
  it('gives the same format, rate, channels, duration, checksum and peaks streamed as decoded whole', async () => {
    for (const f of ['speech.wav', 'speech-44k-stereo.wav', 'speech.flac', 'speech.mp3', 'speech.opus', 'speech.ogg']) {
      const file = path.join(AUDIO_FIXTURES, f);
      const whole = await analyseRecording(file, 100);
      const streamed = await analyseRecording(file, 100, { streamAboveBytes: 0 });
      expect(streamed.format, f).toBe(whole.format);
      expect(streamed.sampleRate, f).toBe(whole.sampleRate);
      expect(streamed.channels, f).toBe(whole.channels);
      expect(streamed.durationS, f).toBe(whole.durationS);
      expect(streamed.checksum, f).toBe(whole.checksum);
      expect(streamed.peaks.length, f).toBe(whole.peaks.length);
      expect(Array.from(streamed.peaks), f).toEqual(Array.from(whole.peaks));
    }
  });

  it('keeps computePeaks bins however the signal is cut into chunks, fractional bin sizes included', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (const rate of [16000, 22050, 44100, 8000]) {
      for (const length of [0, 1, 219, 220, 221, 441, 12345]) {
        const channels = [Float32Array.from({ length }, random), Float32Array.from({ length }, random)];
        const want = computePeaks(channels, rate, 100);
        const acc = new PeakAccumulator(rate, 100);
        for (let at = 0; at < length;) {
          const n = Math.min(length - at, 1 + Math.floor(Math.abs(random()) * 500));
          acc.add(channels.map((c) => c.subarray(at, at + n)));
          at += n;
        }
        expect(Array.from(acc.finish()), `${rate} Hz, ${length} samples`).toEqual(Array.from(want));
      }
    }
  });

  it('streams a long recording in bounded memory (a 30-minute WAV: the whole decode holds ~170 MiB)', async () => {
    const file = path.join(dir, 'thirty-minutes.wav');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=180:sample_rate=16000:duration=1800'],
      ...['-af', 'volume=0.3', file],
    ]);
    const streamed = analysisPeakGrowth(file, 1 << 20);
    const whole = analysisPeakGrowth(file, Number.POSITIVE_INFINITY);
    expect(await analyseRecording(file, 100, { streamAboveBytes: 1 << 20 })).toEqual(
      await analyseRecording(file, 100, { streamAboveBytes: Number.POSITIVE_INFINITY }),
    );
    // the file's 55 MiB of bytes and 110 MiB of samples at once, against read buffers and chunks
    expect(whole).toBeGreaterThan(150);
    expect(streamed).toBeLessThan(80);
  });

  it('refuses what it cannot read, streamed, with the same reasons', async () => {
    const stream = { streamAboveBytes: 0 };
    await expect(analyseRecording(path.join(dir, 'missing.wav'), 100, stream)).rejects.toThrow('file not found');
    fs.mkdirSync(path.join(dir, 'a-folder.wav'));
    await expect(analyseRecording(path.join(dir, 'a-folder.wav'), 100, stream)).rejects.toThrow(
      'is a folder, not a file',
    );
    const wav = fs.readFileSync(path.join(AUDIO_FIXTURES, 'speech.wav'));
    fs.writeFileSync(path.join(dir, 'cut.wav'), wav.subarray(0, wav.length / 2));
    await expect(analyseRecording(path.join(dir, 'cut.wav'), 100, stream)).rejects.toThrow(/truncated WAV/);
    // an ID3 tag, then bytes that are not MP3 frames
    const junk = Buffer.concat([
      Buffer.from('ID3\u0003\u0000\u0000\u0000\u0000\u0000\u0000'),
      Buffer.alloc(200_000, 0x41),
    ]);
    fs.writeFileSync(path.join(dir, 'junk.mp3'), junk);
    await expect(analyseRecording(path.join(dir, 'junk.mp3'), 100, stream)).rejects.toThrow(/not MP3 frames/);
  });
});
