import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { DecodedAudioCache } from '../../src/main/audio/decoded-audio-cache';
import { STREAM_CLIP_BYTES, WaveformService, type MediaBody } from '../../src/main/audio/waveform-service';
import { startLoopbackHost, type LoopbackHost } from '../../src/main/host/loopback-host';
import { openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/** Long clips are made range by range as the player reads them; the bytes are those of the clip made whole. */
let studio: Studio;
let host: LoopbackHost;
let folder: string;
const wholeClips = () => new WaveformService(studio.store, new DecodedAudioCache(), Number.MAX_SAFE_INTEGER);
const readAll = (m: MediaBody) => m.read(0, m.size);

beforeAll(async () => {
  ({ studio } = openTempStudio());
  folder = tempDir('clip-media-');
  // 21 minutes of pink noise as a 16 kHz WAV (over STREAM_CLIP_BYTES as one clip), and 3 minutes as Opus
  const noise = (seconds: number, rate: number) => [
    ...['-v', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `anoisesrc=color=pink:seed=5:amplitude=0.3:duration=${seconds}:sample_rate=${rate}`],
  ];
  execFileSync('ffmpeg', [...noise(21 * 60, 16000), '-c:a', 'pcm_s16le', path.join(folder, 'session.wav')]);
  execFileSync('ffmpeg', [...noise(180, 48000), '-c:a', 'libopus', '-b:a', '32k', path.join(folder, 'short.opus')]);
  await runImport(studio, folder);
  const renderer = tempDir();
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
  host = await startLoopbackHost({ studio, rendererDir: renderer, token: 'test-token-123' });
}, 120_000);
afterAll(async () => {
  await host.close();
  await studio.close();
});

function utteranceOf(fileName: string): number {
  const rec = studio.store.recordings.list().find((r) => r.fileName === fileName)!;
  return studio.store.utterances.overlapping(rec.id, 0, rec.durationS)[0]!.id;
}

describe('clip media', () => {
  it('streams a long clip range by range: every range, odd offsets and the header included, equals the clip made whole', async () => {
    for (const [file, threshold] of [
      ['session.wav', STREAM_CLIP_BYTES], // 21 minutes at 16 kHz: 40 MB, over the default
      ['short.opus', 4096], // a compressed file, through the decode cache
    ] as const) {
      const id = utteranceOf(file);
      const whole = await readAll(await wholeClips().clipMedia(id, 0.5));
      const streamed = await new WaveformService(studio.store, new DecodedAudioCache(), threshold).clipMedia(id, 0.5);
      expect(streamed.size, file).toBe(whole.length);
      expect(whole.length).toBeGreaterThan(threshold);
      for (const [a, b] of [
        [0, 44],
        [0, 100],
        [43, 47],
        [44, 45],
        [1_000_001, 1_050_000],
        [whole.length - 3, whole.length],
        [Math.floor(whole.length / 2) + 1, Math.floor(whole.length / 2) + 4096],
      ] as const) {
        expect((await streamed.read(a, b)).equals(whole.subarray(a, b)), `${file} [${a}, ${b})`).toBe(true);
      }
    }
  });

  it('serves a long clip over HTTP in byte ranges, made a chunk at a time, as the media element reads it', async () => {
    const id = utteranceOf('session.wav');
    const whole = await readAll(await wholeClips().clipMedia(id, 0.5));
    const url = `http://127.0.0.1:${host.port}/media/utterances/${id}/clip.wav?context=0.5`;
    const get = (range?: string) =>
      fetch(url, { headers: { Authorization: 'Bearer test-token-123', ...(range ? { Range: range } : {}) } });
    const head = await get('bytes=0-');
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-${whole.length - 1}/${whole.length}`);
    expect(Number(head.headers.get('content-length'))).toBe(whole.length);
    const body = Buffer.from(await head.arrayBuffer());
    expect(body.equals(whole)).toBe(true);
    const middle = await get('bytes=20000001-20100000');
    expect(middle.status).toBe(206);
    expect(Buffer.from(await middle.arrayBuffer()).equals(whole.subarray(20_000_001, 20_100_001))).toBe(true);
    const tail = await get('bytes=-1000');
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 1000))).toBe(true);
    expect((await get(`bytes=${whole.length}-`)).status).toBe(416);
  });

  it('says which recording cannot be played when its file went missing', async () => {
    const id = utteranceOf('session.wav');
    const rec = studio.store.recordings.list().find((r) => r.fileName === 'session.wav')!;
    const media = await new WaveformService(studio.store, new DecodedAudioCache()).clipMedia(id, 0.5);
    fs.renameSync(rec.path, `${rec.path}.moved`);
    try {
      await expect(media.read(1000, 2000)).rejects.toThrow(/Recording session\.wav cannot be played: .*session\.wav/);
    } finally {
      fs.renameSync(`${rec.path}.moved`, rec.path);
    }
  });
});
