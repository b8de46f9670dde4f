import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import { SpectrogramService } from '../../src/main/audio/spectrogram-service';
import {
  parseOutput,
  spectrogramPositionOf,
  type SpectrogramScale,
  type SpectrogramTile,
} from '../../src/shared/contract';
import { AUDIO_FIXTURES, copyInto, openTempStudio, runImport } from '../helpers/fixtures';

// tone-1khz.wav: 4 s of a 1000 Hz sine at half scale, 16 kHz 16-bit mono (sox synth); .flac: the same.
let studio: Studio;
let dir: string;
let call: (input: Record<string, unknown>) => Promise<SpectrogramTile>;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ({ studio, dir } = openTempStudio());
  const audio = path.join(dir, 'audio');
  copyInto(
    audio,
    ['tone-1khz.wav', 'tone-1khz.flac', 'speech.wav'].map((f) => path.join(AUDIO_FIXTURES, f)),
  );
  expect((await runImport(studio, audio)).state).toBe('succeeded');
  for (const r of studio.store.recordings.list()) ids[r.fileName] = r.id;
  const handlers = createHandlers(studio);
  call = async (input) =>
    parseOutput('getSpectrogramTile', await invokeOperation(handlers, 'getSpectrogramTile', input));
});

afterAll(() => {
  studio.store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The row (from the top) with the most energy, summed over the tile's columns. */
function loudestRow(tile: SpectrogramTile): number {
  let best = -1;
  let row = -1;
  for (let r = 0; r < tile.heightPx; r++) {
    let sum = 0;
    for (let c = 0; c < tile.widthPx; c++) sum += tile.values[r * tile.widthPx + c]!;
    if (sum > best) [best, row] = [sum, r];
  }
  return row;
}

/** The row a frequency falls in (from the top). */
const rowOf = (tile: SpectrogramTile, hz: number) =>
  tile.heightPx - 1 - Math.floor(spectrogramPositionOf(hz, tile.scale, tile.minHz, tile.maxHz) * tile.heightPx);

describe('getSpectrogramTile', () => {
  for (const scale of ['mel', 'log'] as SpectrogramScale[]) {
    for (const file of ['tone-1khz.wav', 'tone-1khz.flac']) {
      it(`puts a 1 kHz tone in the 1 kHz row (${scale}, ${file})`, async () => {
        const tile = await call({
          recordingId: ids[file],
          startSeconds: 0.5,
          endSeconds: 3.5,
          widthPx: 200,
          heightPx: 128,
          scale,
        });
        expect(tile).toMatchObject({ widthPx: 200, heightPx: 128, scale, sampleRate: 16000, maxHz: 8000 });
        expect(tile.values).toHaveLength(200 * 128);
        const expected = rowOf(tile, 1000);
        expect(Math.abs(loudestRow(tile) - expected)).toBeLessThanOrEqual(1);
        // Half scale is -6 dB: quantised over -120..0 dB that is about 242; an octave away is far below.
        const column = 100;
        const peak = Math.max(...[-1, 0, 1].map((d) => tile.values[(expected + d) * 200 + column]!));
        expect(peak).toBeGreaterThan(225);
        expect(peak).toBeLessThanOrEqual(255);
        expect(tile.values[rowOf(tile, 4000) * 200 + column]!).toBeLessThan(peak - 60);
        expect(tile.values[rowOf(tile, 250) * 200 + column]!).toBeLessThan(peak - 60);
      });
    }
  }

  it('gives the same columns for two adjacent tiles as for one tile over both ranges', async () => {
    for (const scale of ['mel', 'log'] as SpectrogramScale[]) {
      const base = { recordingId: ids['speech.wav'], heightPx: 96, scale };
      const one = await call({ ...base, startSeconds: 0.25, endSeconds: 1.25, widthPx: 400 });
      const left = await call({ ...base, startSeconds: 0.25, endSeconds: 0.75, widthPx: 200 });
      const right = await call({ ...base, startSeconds: 0.75, endSeconds: 1.25, widthPx: 200 });
      expect([left.fftSize, left.hopSamples]).toEqual([one.fftSize, one.hopSamples]);
      let worst = 0;
      for (let r = 0; r < 96; r++) {
        for (let c = 0; c < 400; c++) {
          const joined = c < 200 ? left.values[r * 200 + c]! : right.values[r * 200 + c - 200]!;
          worst = Math.max(worst, Math.abs(joined - one.values[r * 400 + c]!));
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('reads a long range column by column with the same result as in one read', async () => {
    const byColumn = new SpectrogramService(studio.store, studio.audio, 0);
    for (const file of ['speech.wav', 'tone-1khz.flac']) {
      const request = { recordingId: ids[file], startSeconds: 0.1, endSeconds: 1.9, widthPx: 300, heightPx: 80 };
      const whole = await call(request);
      const columns = await byColumn.tile({ ...request, scale: 'mel' });
      expect(columns.values).toEqual(whole.values);
    }
  });

  it('by utterance: the tile of the utterance’s recording; past the end reads as silence', async () => {
    const u = studio.store.utterances.overlapping(ids['tone-1khz.wav']!, 0, 4)[0]!;
    const tile = await call({ utteranceId: u.id, startSeconds: 3, endSeconds: 5, widthPx: 100, heightPx: 64 });
    expect(tile.recordingId).toBe(ids['tone-1khz.wav']);
    const row = rowOf(tile, 1000);
    expect(tile.values[row * 100 + 20]!).toBeGreaterThan(200);
    expect(tile.values[row * 100 + 90]).toBe(0);
  });

  it('refuses bad input by name', async () => {
    const id = ids['tone-1khz.wav'];
    const ok = { recordingId: id, startSeconds: 0, endSeconds: 1, widthPx: 100, heightPx: 100 };
    const refused = async (input: Record<string, unknown>, code: string, message: RegExp) => {
      await expect(call(input)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    };
    await refused(
      { ...ok, endSeconds: 0 },
      'invalid_request',
      /endSeconds: endSeconds must be greater than startSeconds/,
    );
    await refused({ ...ok, startSeconds: -1 }, 'invalid_request', /startSeconds/);
    await refused(
      { ...ok, widthPx: 1024, heightPx: 1024 },
      'invalid_request',
      /widthPx: a tile has at most 262144 pixels/,
    );
    await refused({ ...ok, widthPx: 0 }, 'invalid_request', /widthPx/);
    await refused({ ...ok, scale: 'linear' }, 'invalid_request', /scale/);
    await refused({ ...ok, utteranceId: 1 }, 'invalid_request', /give recordingId or utteranceId/);
    await refused(
      { ...ok, startSeconds: 4, endSeconds: 6 },
      'invalid_request',
      /startSeconds 4 is at or past the end of recording tone-1khz.wav \(4.000 s long\)/,
    );
    await refused({ ...ok, scale: 'log', minHz: 0 }, 'invalid_request', /log scale needs minHz above 0/);
    await refused({ ...ok, recordingId: 999 }, 'not_found', /Recording 999 not found/);
    await refused({ ...ok, recordingId: undefined, utteranceId: 999 }, 'not_found', /Utterance 999 not found/);
  });

  it('getRecordingOverview: the whole recording’s peaks and its segments with their labels', async () => {
    const handlers = createHandlers(studio);
    const overview = (input: Record<string, unknown>) =>
      invokeOperation(handlers, 'getRecordingOverview', input).then((o) => parseOutput('getRecordingOverview', o));
    const id = ids['tone-1khz.wav']!;
    const [u] = studio.store.utterances.overlapping(id, 0, 4);
    await studio.segments.split(u!.id, 1.5);
    const [first, second] = studio.store.utterances.overlapping(id, 0, 4);
    const label = studio.store.labels.list()[0]!;
    studio.annotations.setLabel(second!.id, label.id);
    const o = await overview({ recordingId: id, peaks: 100 });
    expect(o).toMatchObject({ recordingId: id, durationS: 4, truncated: false });
    expect(o.peaks).toHaveLength(100);
    for (const p of o.peaks) expect(p).toBeCloseTo(0.5, 1);
    expect(o.segments).toEqual([
      { utteranceId: first!.id, start: 0, end: 1.5, labelId: null },
      { utteranceId: second!.id, start: 1.5, end: 4, labelId: label.id },
    ]);
    await expect(overview({ recordingId: 999 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(overview({ recordingId: id, peaks: 10_000 })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/peaks/),
    });
  });
});
