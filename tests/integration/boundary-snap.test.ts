import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import { SNAP_ENERGY_FRAME_S } from '../../src/main/audio/boundary-snap';
import { readWavSegment } from '../../src/main/audio/wav';
import { openTempStudio, runImport } from '../helpers/fixtures';
import { makeLongSpeech, type LongSpeech } from '../helpers/long-speech';

/**
 * Snapping a resized segment edge, in the core, on real (espeak-ng) speech: the stored boundary is
 * checked against the samples of the file itself (a sign change; the quietest 10 ms in the window).
 */
describe('snapping a segment edge to a zero crossing or the lowest-energy point', () => {
  let studio: Studio;
  let dir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let call: (name: string, input?: unknown) => Promise<any>;
  /** Speech with a little noise under it (16 kHz), and clean speech with digital silence (22.05 kHz). */
  let noisy: { speech: LongSpeech; recordingId: number; x: Float32Array };
  let clean: { speech: LongSpeech; recordingId: number; x: Float32Array };

  beforeAll(async () => {
    ({ studio, dir } = openTempStudio());
    const audio = fs.mkdirSync(path.join(dir, 'audio'), { recursive: true })!;
    const a = makeLongSpeech(audio, { sentences: 2, seed: 3, noise: 0.002 });
    const b = makeLongSpeech(audio, { sentences: 2, seed: 4, sampleRate: 22050 });
    for (const f of fs.readdirSync(audio)) if (f.startsWith('clip-')) fs.rmSync(path.join(audio, f));
    expect((await runImport(studio, audio)).state).toBe('succeeded');
    const handlers = createHandlers(studio);
    call = (name, input) => invokeOperation(handlers, name, input);
    const rows = studio.store.rows();
    const load = async (s: LongSpeech) => {
      const row = rows.find((r) => r.recordingName === path.basename(s.file))!;
      // The whole-file utterance of the import goes; the tests make their own segments.
      await call('deleteSegment', { utteranceId: row.id });
      const { samples } = (await readWavSegment(s.file, 0, s.duration + 1))!;
      return { speech: s, recordingId: row.recordingId, x: samples };
    };
    noisy = await load(a);
    clean = await load(b);
  }, 60_000);
  afterAll(async () => {
    await studio.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const signChange = (x: Float32Array, k: number) => x[k - 1]! >= 0 !== x[k]! >= 0;
  const energy = (x: Float32Array, k: number, sr: number) => {
    const half = Math.max(1, Math.round((SNAP_ENERGY_FRAME_S * sr) / 2));
    let e = 0;
    for (let i = k - half; i < k + half; i++) e += (x[i] ?? 0) ** 2;
    return e;
  };
  const segment = async (recordingId: number, start: number, end: number) => {
    const id = (await call('createSegment', { recordingId, start, end })).utteranceIds[0] as number;
    return { id, span: () => studio.store.utterances.byId(id)! };
  };

  it('zero crossing: the moved end lands on the sign change nearest to where it was put, within 20 ms; Undo puts it back', async () => {
    const { speech, recordingId, x } = noisy;
    const sr = speech.sampleRate;
    const clip = speech.speech[0]!;
    const seg = await segment(recordingId, clip.start + 0.05, clip.end - 0.4);
    // Where the edge is put: a sample inside a loud half-wave (no sign change there), 250 ms earlier.
    let k = Math.round((clip.end - 0.65) * sr);
    while (signChange(x, k) || signChange(x, k + 1) || Math.abs(x[k]!) < 0.05) k++;
    const requested = k / sr;
    const before = seg.span();

    const result = await call('resizeSegment', {
      utteranceId: seg.id,
      start: before.start,
      end: requested,
      snap: 'zero-crossing',
    });
    const end = seg.span().end;
    expect(result.end).toBe(end);
    expect(result.snapped).toEqual([{ edge: 'end', requested, to: end, moved: true }]);
    const at = Math.round(end * sr);
    expect(Math.abs(end * sr - at)).toBeLessThan(1e-6);
    expect(signChange(x, at), `sample ${at}: ${x[at - 1]} → ${x[at]}`).toBe(true);
    expect(Math.abs(end - requested)).toBeLessThanOrEqual(0.02);
    // Nearest: no sign change closer to where the edge was put (on the side it moved from, or at all).
    for (let i = k - Math.abs(at - k) + 1; i < k + Math.abs(at - k); i++)
      expect(signChange(x, i), `a nearer sign change at ${i}`).toBe(false);
    expect(seg.span().start).toBe(before.start);

    await call('undo');
    expect(seg.span().end).toBe(before.end);
    // Without snapping, the edge stays exactly where it was put (not a sign change).
    await call('resizeSegment', { utteranceId: seg.id, start: before.start, end: requested });
    expect(seg.span().end).toBe(requested);
    expect(signChange(x, k)).toBe(false);
    await call('deleteSegment', { utteranceId: seg.id });
  });

  it('low energy: the moved start lands on the quietest 10 ms within 20 ms, strictly quieter than where it was put', async () => {
    const { speech, recordingId, x } = noisy;
    const sr = speech.sampleRate;
    const clip = speech.speech[1]!;
    const seg = await segment(recordingId, clip.start + 0.3, clip.end - 0.05);
    // Moved earlier, to 8 ms into the speech: the pause before it is within the window.
    const requested = clip.start + 0.008;
    const result = await call('resizeSegment', {
      utteranceId: seg.id,
      start: requested,
      end: seg.span().end,
      snap: 'low-energy',
    });
    const start = seg.span().start;
    expect(result.snapped[0]).toMatchObject({ edge: 'start', moved: true, to: start });
    expect(Math.abs(start - requested)).toBeLessThanOrEqual(0.02);
    const at = Math.round(start * sr);
    // The quietest candidate of the window (brute force over the file's samples).
    let min = Infinity;
    for (let i = Math.ceil((requested - 0.02) * sr); i <= Math.floor((requested + 0.02) * sr); i++)
      min = Math.min(min, energy(x, i, sr));
    expect(energy(x, at, sr)).toBeLessThanOrEqual(min * (1 + 1e-5));
    expect(energy(x, at, sr)).toBeLessThan(energy(x, Math.round(requested * sr), sr) / 4);
    expect(start).toBeLessThan(clip.start);

    // Nudges with snapping on always move on: three +10 ms steps of the end, each later than the last.
    let end = seg.span().end;
    for (let i = 0; i < 3; i++) {
      await call('resizeSegment', { utteranceId: seg.id, start, end: end + 0.01, snap: 'low-energy' });
      expect(seg.span().end).toBeGreaterThan(end);
      expect(seg.span().end).toBeLessThanOrEqual(end + 0.03 + 1e-9);
      end = seg.span().end;
    }
    await call('deleteSegment', { utteranceId: seg.id });
  });

  it('never snaps across a neighbouring segment, and leaves an edge as put where there is no sign change (digital silence)', async () => {
    const { speech, recordingId } = clean;
    const gap = { start: speech.speech[0]!.end, end: speech.speech[1]!.start };
    const mid = (gap.start + gap.end) / 2;
    const a = await segment(recordingId, speech.speech[0]!.start, mid - 0.1);
    const b = await segment(recordingId, mid + 0.005, speech.speech[1]!.end);
    // In the silence: no sign change within 20 ms, the edge stays where it was put.
    const result = await call('resizeSegment', {
      utteranceId: a.id,
      start: a.span().start,
      end: mid - 0.05,
      snap: 'zero-crossing',
    });
    expect(result.snapped).toEqual([{ edge: 'end', requested: mid - 0.05, to: mid - 0.05, moved: false }]);
    expect(a.span().end).toBe(mid - 0.05);
    // Low energy against the neighbour 5 ms away: all equally silent, the nearest point to where it was
    // put, and never past b's start.
    await call('resizeSegment', { utteranceId: a.id, start: a.span().start, end: mid + 0.004, snap: 'low-energy' });
    expect(a.span().end).toBeLessThanOrEqual(b.span().start);
    expect(a.span().end).toBeGreaterThan(mid - 0.05);
    await call('deleteSegment', { utteranceId: a.id });
    await call('deleteSegment', { utteranceId: b.id });
  });

  it('refuses an unknown snap mode and says so; a file gone missing is named in a clear error and nothing changes', async () => {
    const { speech, recordingId } = clean;
    const seg = await segment(recordingId, speech.speech[0]!.start, speech.speech[0]!.end);
    const before = seg.span();
    await expect(
      call('resizeSegment', { utteranceId: seg.id, start: before.start, end: before.end - 0.1, snap: 'magnetic' }),
    ).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/snap/) });
    const moved = `${speech.file}.away`;
    fs.renameSync(speech.file, moved);
    try {
      await expect(
        call('resizeSegment', { utteranceId: seg.id, start: before.start, end: before.end - 0.1, snap: 'low-energy' }),
      ).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/long-22050\.wav cannot be read/) });
    } finally {
      fs.renameSync(moved, speech.file);
    }
    expect(seg.span()).toMatchObject({ start: before.start, end: before.end });
  });
});
