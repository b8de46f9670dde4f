import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { DecodedAudioCache } from '../../src/main/audio/decoded-audio-cache';
import { SegmentCursor } from '../../src/main/audio/decode-stream';
import { decodeOggOpusBytes } from '../../src/main/audio/ogg-opus';
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

  it('seeks in a long Ogg Opus file: a read far in, or back, starts from a page just before it, sample-exact', async () => {
    const dir = tempDir('seek-opus-');
    const file = path.join(dir, 'six-minutes.opus');
    // pink noise: nothing repeats, so a read placed one sample off would show
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi'],
      ...['-i', 'anoisesrc=color=pink:seed=7:amplitude=0.3:duration=360:sample_rate=48000'],
      ...['-c:a', 'libopus', '-b:a', '32k', file],
    ]);
    for (const rate of [16000, 48000] as const) {
      const whole = (await decodeOggOpusBytes(fs.readFileSync(file), rate)).channelData[0]!;
      const cursor = new SegmentCursor(file, 'opus', rate);
      const expectRead = async (a: number, b: number, restarts: { fromStart: number; seeks: number }) => {
        const got = await cursor.read(a, b);
        const from = Math.floor(a * rate);
        const want = whole.subarray(from, Math.min(whole.length, Math.ceil(b * rate)));
        expect(got.sampleRate).toBe(rate);
        expect(got.samples.length, `${rate} ${a}-${b}`).toBe(want.length);
        let worst = 0;
        let shifted = 0;
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(got.samples[i]! - want[i]!));
          shifted = Math.max(shifted, Math.abs((got.samples[i + 1] ?? 0) - want[i]!));
        }
        // after the 80 ms pre-roll libopus has converged: equal, or within a few thousandths
        expect(worst, `${rate} ${a}-${b}`).toBeLessThan(5e-3);
        expect(shifted).toBeGreaterThan(0.05);
        expect(cursor.restarts, `${rate} ${a}-${b}`).toEqual(restarts);
      };
      await expectRead(300, 302, { fromStart: 0, seeks: 1 }); // a first read five minutes in
      await expectRead(100, 101, { fromStart: 0, seeks: 2 }); // back
      await expectRead(100.5, 101.5, { fromStart: 0, seeks: 2 }); // on from there: no restart
      await expectRead(200.123, 200.4, { fromStart: 0, seeks: 3 }); // far ahead
      await expectRead(0.01, 0.05, { fromStart: 1, seeks: 3 }); // the start: decoded from there
      await expectRead(355, 400, { fromStart: 1, seeks: 4 }); // past the end: cut at it
      await cursor.close();
    }

    // Chained streams (two files one after the other) are not sought in: decoded from the start, exact.
    const second = path.join(dir, 'second.opus');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anoisesrc=color=brown:seed=3:amplitude=0.3:duration=40'],
      ...['-c:a', 'libopus', '-b:a', '32k', second],
    ]);
    const chained = path.join(dir, 'chained.opus');
    fs.writeFileSync(chained, Buffer.concat([fs.readFileSync(file), fs.readFileSync(second)]));
    const whole = (await decodeOggOpusBytes(fs.readFileSync(chained), 48000)).channelData[0]!;
    expect(whole.length).toBe(400 * 48000);
    const cursor = new SegmentCursor(chained, 'opus');
    const got = await cursor.read(390, 391);
    expect(Array.from(got.samples)).toEqual(Array.from(whole.subarray(390 * 48000, 391 * 48000)));
    expect(cursor.restarts).toEqual({ fromStart: 1, seeks: 0 });
    await cursor.close();
  });

  it('seeks in a long MP3 file by its frame index: CBR, VBR, MPEG-2, with and without tags, sample-exact to the end', async () => {
    const dir = tempDir('seek-mp3-');
    for (const [name, args] of [
      ['cbr-44k-stereo', ['-ac', '2', '-ar', '44100', '-b:a', '64k']],
      ['vbr-22k-mono', ['-ac', '1', '-ar', '22050', '-q:a', '5']],
      ['cbr-16k-no-info-frame', ['-ac', '1', '-ar', '16000', '-b:a', '32k', '-write_xing', '0']],
      ['id3v1-at-the-end', ['-ac', '1', '-ar', '24000', '-b:a', '48k', '-id3v2_version', '0', '-write_id3v1', '1']],
    ] as const) {
      const file = path.join(dir, `${name}.mp3`);
      pinkNoise(file, [...args, '-metadata', 'title=seek test', '-c:a', 'libmp3lame']);
      await expectSeekWalk(file, 'mp3', 1e-6);
    }
  });

  it('seeks in a long FLAC file by its frame headers: bit-exact against the whole decode', async () => {
    const dir = tempDir('seek-flac-');
    for (const [name, args] of [
      ['44k-stereo-16bit', ['-ac', '2', '-ar', '44100', '-sample_fmt', 's16']],
      ['48k-mono-24bit', ['-ac', '1', '-ar', '48000', '-sample_fmt', 's32']],
    ] as const) {
      const file = path.join(dir, `${name}.flac`);
      pinkNoise(file, [...args, '-c:a', 'flac']);
      await expectSeekWalk(file, 'flac', 0);
    }
  });
});

/** 200 s of pink noise (nothing repeats, so a read one sample off would show), encoded by ffmpeg with `args`. */
function pinkNoise(file: string, args: readonly string[]): void {
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi'],
    ...['-i', 'anoisesrc=color=pink:seed=7:amplitude=0.3:duration=200:sample_rate=48000'],
    ...args,
    file,
  ]);
}

/**
 * Reads of a 200 s file through a SegmentCursor, against the whole decode (at most `tolerance` apart,
 * the same length), each costing the restarts it should: a first read far in and a jump back seek, a
 * read just after goes on, one far ahead seeks, the very start decodes from the start, one past the end
 * is cut at it.
 */
async function expectSeekWalk(file: string, format: 'mp3' | 'flac', tolerance: number): Promise<void> {
  const whole = await decodeAudioFile(file);
  const mono = downmix(whole.channels);
  const rate = whole.sampleRate;
  const cursor = new SegmentCursor(file, format);
  for (const [a, b, fromStart, seeks] of [
    [150, 152, 0, 1],
    [60, 61, 0, 2],
    [60.5, 61.5, 0, 2],
    [120.123, 120.4, 0, 3],
    [0.01, 0.05, 1, 3],
    [195, 240, 1, 4],
  ] as const) {
    const what = `${path.basename(file)} ${a}-${b}`;
    const got = await cursor.read(a, b);
    const want = mono.subarray(Math.floor(a * rate), Math.min(mono.length, Math.ceil(b * rate)));
    expect(got.sampleRate).toBe(rate);
    expect(got.samples.length, what).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.samples[i]! - want[i]!));
    expect(worst, what).toBeLessThanOrEqual(tolerance);
    expect(cursor.restarts, what).toEqual({ fromStart, seeks });
  }
  await cursor.close();
}
