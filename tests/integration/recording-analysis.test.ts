import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computePeaks } from '../../src/main/audio/signal';
import { analyseRecording, PeakAccumulator } from '../../src/main/import/recording-analysis';
import { AUDIO_FIXTURES, tempDir } from '../helpers/fixtures';

const dir = tempDir('recording-analysis-');

/** The largest RSS growth (MiB) seen while `run` runs, after a GC. */
async function rssGrowth(run: () => Promise<unknown>): Promise<number> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return (peak - before) / 2 ** 20;
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
    let streamedResult;
    const streamed = await rssGrowth(async () => {
      streamedResult = await analyseRecording(file, 100, { streamAboveBytes: 1 << 20 });
    });
    let wholeResult;
    const whole = await rssGrowth(async () => {
      wholeResult = await analyseRecording(file, 100, { streamAboveBytes: Number.POSITIVE_INFINITY });
    });
    expect(streamedResult).toEqual(wholeResult);
    // measured 52–59 MiB streamed (read buffers and not yet collected chunks), 187–211 MiB whole
    expect(streamed).toBeLessThan(100);
    expect(whole).toBeGreaterThan(150);
    expect(streamed).toBeLessThan(whole / 2);
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
