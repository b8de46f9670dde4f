import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { AudioFileError, decodeAudioFile } from '../../src/main/audio/decode';
import { DecodedAudioCache } from '../../src/main/audio/decoded-audio-cache';
import { monoSegment } from '../../src/main/audio/signal';
import { analyseRecording } from '../../src/main/import/recording-analysis';
import type { ImportReport } from '../../src/shared/contract';
import { AUDIO_FIXTURES, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/**
 * AIFF and AIFF-C (what Praat and macOS tools write): decoded to the same samples as the WAV they were
 * made from, read by segment from files too long to decode whole, and imported from a folder.
 */
const SOURCE = path.join(AUDIO_FIXTURES, 'speech-44k-stereo.wav');

/** The fixture as AIFF variants made by ffmpeg: name → codec and container. */
const VARIANTS: Record<string, string[]> = {
  's16be.aiff': ['-c:a', 'pcm_s16be'],
  's24be.aif': ['-c:a', 'pcm_s24be'],
  'sowt.aifc': ['-c:a', 'pcm_s16le', '-f', 'aiff'], // AIFF-C, little-endian 16-bit ('sowt')
  'fl32.aifc': ['-c:a', 'pcm_f32be', '-f', 'aiff'], // AIFF-C, 32-bit float
};

function makeVariants(dir: string): string[] {
  return Object.entries(VARIANTS).map(([name, codec]) => {
    const file = path.join(dir, name);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', SOURCE, ...codec, file]);
    return file;
  });
}

let studio: Studio | null = null;
afterEach(async () => {
  await studio?.close();
  studio = null;
});

describe('AIFF recordings', () => {
  it('decode to the samples of the WAV they were made from (16/24-bit, little-endian AIFF-C, float)', async () => {
    const wav = await decodeAudioFile(SOURCE);
    for (const file of makeVariants(tempDir())) {
      const aiff = await decodeAudioFile(file);
      expect(aiff.format, file).toBe('aiff');
      expect(aiff.sampleRate, file).toBe(wav.sampleRate);
      expect(aiff.channels.length, file).toBe(wav.channels.length);
      for (let c = 0; c < wav.channels.length; c++) {
        const a = aiff.channels[c]!;
        const b = wav.channels[c]!;
        expect(a.length, file).toBe(b.length);
        let worst = 0;
        for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        // the same 16-bit values; the AIFF decoder divides by 32767 where the WAV one divides by 32768
        // (a gain 3·10⁻⁵ apart, so at most 3·10⁻⁵ at full scale): no sample moved
        expect(worst, file).toBeLessThan(5e-5);
      }
    }
  });

  it('a recording too long to decode whole is read by segment: what the whole decode gives', async () => {
    const cache = new DecodedAudioCache(512 * 1024 * 1024, 1); // every file counts as long
    for (const file of makeVariants(tempDir())) {
      const whole = await decodeAudioFile(file);
      for (const [from, to] of [
        [0.1, 0.4],
        [1.1, 1.3],
        [0.05, 0.2],
        [0.9, 9],
      ] as const) {
        const got = await cache.segment(file, from, to);
        expect(got.sampleRate, file).toBe(whole.sampleRate);
        const want = monoSegment(whole, from, Math.min(to, whole.durationS));
        expect(got.samples.length, `${file} ${from}-${to}`).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.samples[i]! - want[i]!));
        expect(worst, `${file} ${from}-${to}`).toBeLessThan(1e-6);
      }
    }
  });

  it('are analysed for import streamed as decoded whole: format, rate, duration, checksum and peaks', async () => {
    for (const file of makeVariants(tempDir())) {
      const whole = await analyseRecording(file, 100);
      const streamed = await analyseRecording(file, 100, { streamAboveBytes: 0 });
      expect(streamed.format, file).toBe('aiff');
      expect({ ...streamed, peaks: Array.from(streamed.peaks) }, file).toEqual({
        ...whole,
        peaks: Array.from(whole.peaks),
      });
    }
  });

  it('are imported from a folder (.aif, .aiff, .aifc) with their durations; a FORM file that is no AIFF is reported', async () => {
    const dir = tempDir();
    const files = makeVariants(dir);
    // an IFF file of another kind (an ILBM picture's header) named .aiff
    const fake = Buffer.alloc(64);
    fake.write('FORM', 0, 'ascii');
    fake.writeUInt32BE(56, 4);
    fake.write('ILBMBMHD', 8, 'ascii');
    fs.writeFileSync(path.join(dir, 'picture.aiff'), fake);
    ({ studio } = openTempStudio());
    const status = await runImport(studio, dir);
    expect(status.error).toBeUndefined();
    const report = status.result as ImportReport;
    const recordings = studio.store.recordings.list();
    expect(recordings.map((r) => r.fileName).sort()).toEqual(files.map((f) => path.basename(f)).sort());
    const wav = await decodeAudioFile(SOURCE);
    for (const r of recordings) {
      expect(r.format, r.fileName).toBe('aiff');
      expect(r.durationS, r.fileName).toBeCloseTo(wav.durationS, 3);
    }
    const failed = JSON.stringify(report);
    expect(failed).toContain('picture.aiff');
    expect(failed).toMatch(/not an audio file: its content is not WAV, AIFF, FLAC/);
    await expect(decodeAudioFile(path.join(dir, 'picture.aiff'))).rejects.toBeInstanceOf(AudioFileError);
  });
});
