import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioFileError, decodeAudioFile } from '../../src/main/audio/decode';
import { AUDIO_FIXTURES, tempDir } from '../helpers/fixtures';

/**
 * WAV files from telephone and archive corpora: the codecs the decoder reads come out at the PCM file's
 * level and length, and one it cannot read (GSM 6.10) is refused by name with how to convert it, not
 * with the decoder's "Unsupported WAV format: 0x31".
 */
const SOURCE = path.join(AUDIO_FIXTURES, 'speech.wav');

function make(dir: string, codec: string): string {
  const file = path.join(dir, `${codec}.wav`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', SOURCE, '-ar', '8000', '-ac', '1', '-c:a', codec, file]);
  return file;
}

describe('WAV codecs', () => {
  it('reads A-law, µ-law, MS and IMA ADPCM, 8-bit and 32-bit WAV at the level and length of 16-bit PCM', async () => {
    const dir = tempDir();
    const pcm = await decodeAudioFile(make(dir, 'pcm_s16le'));
    const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (const codec of ['pcm_alaw', 'pcm_mulaw', 'adpcm_ms', 'adpcm_ima_wav', 'pcm_u8', 'pcm_s32le']) {
      const got = await decodeAudioFile(make(dir, codec));
      expect(got.sampleRate, codec).toBe(8000);
      // ADPCM pads its last block
      expect(Math.abs(got.durationS - pcm.durationS), codec).toBeLessThan(0.1);
      expect(Math.abs(peak(got.channels[0]!) - peak(pcm.channels[0]!)), codec).toBeLessThan(0.06);
    }
  });

  it('refuses GSM 6.10 WAV by name, with how to convert it', async () => {
    const file = make(tempDir(), 'gsm_ms');
    const err = await decodeAudioFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudioFileError);
    expect((err as AudioFileError).kind).toBe('unsupported');
    expect((err as Error).message).toMatch(/^WAV holding GSM 6\.10 audio is not supported .*sox in\.wav/);
  });
});
