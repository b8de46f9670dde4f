import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { DecodedAudioCache } from '../../src/main/audio/decoded-audio-cache';
import { encodeWav16 } from '../../src/main/audio/wav';
import { ExportService } from '../../src/main/export/export-service';
import { JobCancelledError, type JobContext } from '../../src/main/jobs/job-runner';
import type { ExportSummary } from '../../src/shared/contract';
import { makeLongSpeech } from '../helpers/long-speech';
import { openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/**
 * An utterance longer than the stream threshold (a whole-session recording) is exported read, resampled
 * and written piece by piece: the same bytes as the clip made whole, progress inside the clip, a cancel
 * or an unreadable file mid-clip leaving nothing behind. The threshold is lowered here to 5 s, and the
 * pieces to 3 s, so that real speech of ~30 s crosses several pieces.
 */
let studio: Studio;
let sources: string;

const PIECE_FRAMES = 3 * 44100;

/** A decode cache that reads every file through a SegmentCursor, in pieces of `PIECE_FRAMES`. */
function cursorCache(): DecodedAudioCache {
  const cache = new DecodedAudioCache(512 * 1024 * 1024, 1);
  const pieces = cache.monoChunks.bind(cache);
  cache.monoChunks = (file, from, to) => pieces(file, from, to, PIECE_FRAMES);
  return cache;
}

function context(onProgress?: (done: number, total: number) => void, controller = new AbortController()): JobContext {
  return { signal: controller.signal, progress: (done, total) => onProgress?.(done, total) };
}

function clips(folder: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const split of ['train', 'validation', 'test'])
    for (const f of fs.existsSync(path.join(folder, split)) ? fs.readdirSync(path.join(folder, split)) : [])
      if (f.endsWith('.wav')) out.set(f, fs.readFileSync(path.join(folder, split, f)));
  return out;
}

beforeAll(async () => {
  ({ studio } = openTempStudio());
  sources = tempDir();
  // (espeak-ng's sentence files stay in the work folder; only the two recordings are imported)
  const speech = makeLongSpeech(tempDir(), { sentences: 9, sampleRate: 44100, seed: 3 });
  fs.copyFileSync(speech.file, path.join(sources, 'long-44100.wav'));
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-i',
    speech.file,
    '-c:a',
    'libopus',
    '-b:a',
    '32k',
    path.join(sources, 'long.opus'),
  ]);
  expect(speech.duration).toBeGreaterThan(25);
  const status = await runImport(studio, sources);
  expect(status.error).toBeUndefined();
  // one whole-recording utterance per file, labelled so that it is exported
  const sad = studio.store.labels.byName('sad')!.id;
  for (const r of studio.store.rows()) studio.annotations.setLabel(r.id, sad);
  expect(studio.store.rows()).toHaveLength(2);
}, 120_000);
afterAll(async () => {
  await studio.close();
});

describe('export of an utterance longer than the stream threshold', () => {
  it('writes the same clip, byte for byte, as the clip made whole (WAV at 44.1 kHz and Opus)', async () => {
    const whole = path.join(tempDir(), 'whole');
    const streamed = path.join(tempDir(), 'streamed');
    const cache = cursorCache();
    await new ExportService(studio.store, cache, Infinity).export({ folder: whole }, context());
    const fractions: number[] = [];
    const summary = await new ExportService(studio.store, cache, 5).export(
      { folder: streamed },
      context((done) => fractions.push(done)),
    );
    expect((summary as ExportSummary).rows).toBe(2);
    const a = clips(whole);
    const b = clips(streamed);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect(a.size).toBe(2);
    for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), name).toBe(true);
    // and from files decoded whole (short enough for the cache), streamed the same
    const fromWhole = path.join(tempDir(), 'from-whole');
    await new ExportService(studio.store, new DecodedAudioCache(), 5).export({ folder: fromWhole }, context());
    const c = clips(fromWhole);
    expect(c.size).toBe(2);
    for (const [name, bytes] of c) expect(a.get(name)!.equals(bytes), name).toBe(true);
    // a valid 16 kHz WAV of the utterance's length (ceil(N·16000/44100) for the WAV)
    const wavClip = [...b.keys()].find((n) => n.includes('long-44100'))!;
    const file = path.join(streamed, fs.existsSync(path.join(streamed, 'train', wavClip)) ? 'train' : 'test', wavClip);
    const decoded = await decodeAudioFile(fs.existsSync(file) ? file : path.join(streamed, 'validation', wavClip));
    const source = await decodeAudioFile(path.join(sources, 'long-44100.wav'));
    expect(decoded.sampleRate).toBe(16000);
    expect(decoded.channels[0]!.length).toBe(Math.ceil((source.channels[0]!.length * 16000) / 44100));
    // progress moved inside the long clips, not only from clip to clip
    expect(fractions.some((f) => !Number.isInteger(f))).toBe(true);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
  }, 120_000);

  it('a cancel in the middle of a long clip leaves no export folder and no partial files', async () => {
    const parent = tempDir();
    const folder = path.join(parent, 'export');
    const controller = new AbortController();
    const exporter = new ExportService(studio.store, cursorCache(), 5);
    await expect(
      exporter.export(
        { folder },
        context((done) => {
          if (!Number.isInteger(done)) controller.abort();
        }, controller),
      ),
    ).rejects.toBeInstanceOf(JobCancelledError);
    expect(fs.readdirSync(parent)).toEqual([]);
  }, 120_000);

  it('a recording cut short since its import is exported to where its audio ends, with a warning that names it', async () => {
    const wav = path.join(sources, 'long-44100.wav');
    const kept = fs.readFileSync(wav);
    const audio = await decodeAudioFile(wav);
    const full = audio.channels[0]!;
    fs.writeFileSync(wav, encodeWav16(full.subarray(0, Math.floor(full.length * 0.6)), audio.sampleRate));
    try {
      for (const threshold of [5, Infinity]) {
        const folder = path.join(tempDir(), 'export');
        const summary = await new ExportService(studio.store, cursorCache(), threshold).export({ folder }, context());
        const warning = summary.warnings.find((w) => w.includes('long-44100.wav'));
        expect(warning, `threshold ${threshold}: ${summary.warnings.join(' | ')}`).toMatch(
          /gave less audio than its utterances span \(1 clip\(s\) 1[0-9]\.\d\d s short in all\)/,
        );
        expect(summary.warnings.some((w) => w.includes('long.opus'))).toBe(false);
        expect(clips(folder).size).toBe(2);
        expect(JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8')).warnings).toContain(warning);
      }
    } finally {
      fs.writeFileSync(wav, kept);
    }
  }, 120_000);

  it('a recording that can no longer be read is named, and nothing is left behind', async () => {
    const parent = tempDir();
    const folder = path.join(parent, 'export');
    const opus = path.join(sources, 'long.opus');
    const kept = fs.readFileSync(opus);
    // replaced since the import by bytes that are no audio
    fs.writeFileSync(opus, Buffer.alloc(kept.length, 0x5a));
    try {
      await expect(new ExportService(studio.store, cursorCache(), 5).export({ folder }, context())).rejects.toThrow(
        /Cannot read .*long\.opus for utterance \d+/,
      );
    } finally {
      fs.writeFileSync(opus, kept);
    }
    expect(fs.readdirSync(parent)).toEqual([]);
  }, 120_000);
});
