import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { DecodedAudioCache } from '../../src/main/audio/decoded-audio-cache';
import { downmix, monoSegment } from '../../src/main/audio/signal';
import { AUDIO_FIXTURES, tempDir } from '../helpers/fixtures';

describe('decoded-audio cache: recordings too long to decode whole', () => {
  it('reads segments and samples of a long recording by decoding forward: what the whole decode gives', async () => {
    // wholeLimitBytes 1: every file counts as long
    const cache = new DecodedAudioCache(512 * 1024 * 1024, 1);
    for (const f of ['speech.mp3', 'speech.opus', 'speech.flac', 'speech.ogg', 'speech-44k-stereo.wav']) {
      const file = path.join(AUDIO_FIXTURES, f);
      const whole = await decodeAudioFile(file);
      for (const [from, to] of [
        [0.1, 0.4],
        [0.9, 1.3],
        [0.05, 0.2],
        [1.1, 9],
      ] as const) {
        const got = await cache.segment(file, from, to);
        expect(got.sampleRate, f).toBe(whole.sampleRate);
        expect(Array.from(got.samples), `${f} ${from}-${to}`).toEqual(
          Array.from(monoSegment(whole, from, Math.min(to, whole.durationS))),
        );
      }
      const reader = await cache.openMono(file);
      const mono = downmix(whole.channels);
      const n = mono.length;
      for (const [from, to] of [
        [-50, 100],
        [1000, 1400],
        [n - 30, n + 20],
      ] as const) {
        const want = new Float32Array(to - from);
        for (let i = Math.max(0, from); i < Math.min(n, to); i++) want[i - from] = mono[i]!;
        expect(Array.from(await reader.read(from, to)), `${f} [${from}, ${to})`).toEqual(Array.from(want));
      }
    }
  });

  it('plays a clip near the end of a 20-minute Opus recording without decoding it whole', async () => {
    const file = path.join(tempDir('long-opus-'), 'twenty-minutes.opus');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=180:sample_rate=48000:duration=1200'],
      ...['-af', 'volume=0.3', '-c:a', 'libopus', '-b:a', '24k', file],
    ]);
    const cache = new DecodedAudioCache();
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let clip;
    try {
      clip = await cache.segment(file, 1190, 1195);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss); // decoding blocks the timer; what it keeps shows now
    expect(clip.sampleRate).toBe(48000);
    expect(clip.samples.length).toBe(5 * 48000);
    // decoded whole it would be 1200 s × 48 kHz × 4 bytes = 220 MiB of samples
    expect((peak - before) / 2 ** 20).toBeLessThan(100);
  });
});
