import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { monoSegment } from '../../src/main/audio/signal';
import { encodeWav16, inspectWav, readWavSegment } from '../../src/main/audio/wav';
import { AUDIO_FIXTURES, tempDir } from '../helpers/fixtures';

describe('WAV', () => {
  it('encodes 16-bit mono PCM that decodes back to the same samples', async () => {
    const samples = Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i / 10));
    const file = path.join(tempDir(), 'x.wav');
    fs.writeFileSync(file, encodeWav16(samples, 16000));
    const decoded = await decodeAudioFile(file);
    expect([decoded.sampleRate, decoded.channels.length, decoded.channels[0]!.length]).toEqual([16000, 1, 1600]);
    let diff = 0;
    samples.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - decoded.channels[0]![i]!))));
    expect(diff).toBeLessThan(1 / 30000);
  });

  it('reads a segment straight from 16-bit, 24-bit and float WAVs, equal to decoding the whole file', async () => {
    const dir = tempDir();
    const source = path.join(AUDIO_FIXTURES, 'speech-44k-stereo.wav');
    const variants = { int16: source, int24: path.join(dir, 'int24.wav'), float32: path.join(dir, 'float.wav') };
    execFileSync('sox', [source, '-b', '24', variants.int24]);
    execFileSync('sox', [source, '-e', 'floating-point', '-b', '32', variants.float32]);
    for (const [name, file] of Object.entries(variants)) {
      const layout = inspectWav(fs.readFileSync(file))!;
      expect(layout.channels, name).toBe(2);
      const segment = (await readWavSegment(file, 0.2, 0.9))!;
      const reference = monoSegment(await decodeAudioFile(file), 0.2, 0.9);
      expect(segment.sampleRate).toBe(44100);
      expect(segment.samples.length, name).toBe(reference.length);
      let diff = 0;
      segment.samples.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - reference[i]!))));
      expect(diff, name).toBeLessThan(1e-4);
    }
  });

  it('clamps a segment to the file and returns null for encodings it does not read', async () => {
    const source = path.join(AUDIO_FIXTURES, 'speech.wav');
    const tail = (await readWavSegment(source, 1.4, 99))!;
    expect(tail.samples.length).toBe(1600);
    const alaw = path.join(tempDir(), 'alaw.wav');
    execFileSync('sox', [source, '-e', 'a-law', alaw]);
    expect(await readWavSegment(alaw, 0, 1)).toBeNull();
  });
});
