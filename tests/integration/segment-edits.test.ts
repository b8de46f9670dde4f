import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import { openTempStudio, runImport } from '../helpers/fixtures';
import { makeLongSpeech } from '../helpers/long-speech';

/** Segment edits on a real project file with real (espeak-ng) audio, through the API handlers. */
describe('segment edits', () => {
  let studio: Studio;
  let dir: string;
  let recordingId: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let call: (name: string, input?: unknown) => Promise<any>;
  const spans = () => studio.store.rows().map((r) => [r.start, r.end]);

  beforeEach(async () => {
    ({ studio, dir } = openTempStudio());
    const audio = fs.mkdirSync(path.join(dir, 'audio'), { recursive: true })!;
    makeLongSpeech(audio, { sentences: 3, seed: 2 });
    for (const f of fs.readdirSync(audio)) if (f.startsWith('clip-')) fs.rmSync(path.join(audio, f));
    expect((await runImport(studio, audio)).state).toBe('succeeded');
    const handlers = createHandlers(studio);
    call = (name, input) => invokeOperation(handlers, name, input);
    const [whole] = studio.store.rows();
    recordingId = whole!.recordingId;
    await call('deleteSegment', { utteranceId: whole!.id });
  }, 30_000);
  afterEach(async () => {
    await studio.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates, resizes, splits, merges and deletes, each one Undo (interleaved with label edits) and one Redo', async () => {
    const a = (await call('createSegment', { recordingId, start: 1, end: 3 })).utteranceIds[0];
    const b = (await call('createSegment', { recordingId, start: 4, end: 6 })).utteranceIds[0];
    await call('setLabel', { utteranceId: a, labelId: 1 });
    await call('resizeSegment', { utteranceId: a, start: 0.5, end: 3.5 });
    const split = await call('splitSegment', { utteranceId: a, at: 2 });
    expect(split.flagged).toHaveLength(2);
    const [a2] = split.utteranceIds.filter((id: number) => id !== a);
    expect(spans()).toEqual([
      [0.5, 2],
      [2, 3.5],
      [4, 6],
    ]);
    // Both halves keep the label, flagged for review.
    const rows = studio.store.rows();
    expect(rows.slice(0, 2).map((r) => [r.labelId, r.needsReview])).toEqual([
      [1, true],
      [1, true],
    ]);
    await call('setLabel', { utteranceId: a2, labelId: 2 });
    const merged = await call('mergeSegmentWithNext', { utteranceId: a });
    expect(merged).toEqual({ utteranceIds: [a], removed: [a2], flagged: [a] });
    expect(spans()).toEqual([
      [0.5, 3.5],
      [4, 6],
    ]);
    await call('deleteSegment', { utteranceId: b });
    expect(spans()).toEqual([[0.5, 3.5]]);
    expect(studio.info().counts.utterances).toBe(1);

    // Undo walks back through both histories, newest first.
    const steps: unknown[] = [];
    for (let i = 0; i < 8; i++) {
      await call('undo');
      steps.push(studio.store.rows().map((r) => [r.start, r.end, r.labelId]));
    }
    const [x, y, z] = [
      [4, 6, null],
      [0.5, 2, 1],
      [0.5, 3.5, 1],
    ];
    expect(steps).toEqual([
      [z, x], // delete undone
      [y, [2, 3.5, 2], x], // merge undone
      [y, [2, 3.5, 1], x], // label of the second half undone
      [z, x], // split undone
      [[1, 3, 1], x], // resize undone
      [[1, 3, null], x], // label undone
      [[1, 3, null]], // b's creation undone
      [], // a's creation undone
    ]);
    await call('redo');
    await call('redo');
    await call('redo');
    expect(studio.store.rows().map((r) => [r.start, r.end, r.labelId])).toEqual([[1, 3, 1], x]);
    // A new edit ends the redo chain.
    await call('createSegment', { recordingId, start: 7, end: 8 });
    const before = spans();
    expect((await call('redo')).row).toBeNull();
    expect(spans()).toEqual(before);
    const ops = studio.store.segments.history().map((h) => h.op);
    expect(ops.filter((op) => op === 'undo')).toHaveLength(6);
    expect(ops.filter((op) => op === 'redo')).toHaveLength(2);
  });

  it('an Undo or Redo of a segment edit that leaves no segment to show still says it did something', async () => {
    const id = (await call('createSegment', { recordingId, start: 1, end: 2 })).utteranceIds[0];
    // Undoing the creation leaves no live segment: no row, but a segment step was undone.
    expect(await call('undo')).toEqual({ row: null, segments: true });
    expect(spans()).toEqual([]);
    const redone = await call('redo');
    expect(redone.segments).toBe(true);
    expect(redone.row.id).toBe(id);
    // A label step carries no flag; nothing left to undo is just no row.
    await call('setLabel', { utteranceId: id, labelId: 1 });
    expect(await call('undo')).toMatchObject({ row: { id } });
    expect((await call('undo')).segments).toBe(true); // the creation
    expect((await call('undo')).segments).toBe(true); // the whole-file utterance's deletion (beforeEach)
    expect(await call('undo')).toEqual({ row: null });
  });

  it('refuses edits past the file end, of negative length, overlapping, or splitting outside the segment', async () => {
    const duration = studio.store.recordings.byId(recordingId)!.durationS;
    await expect(call('createSegment', { recordingId, start: 1, end: duration + 1 })).rejects.toThrow(/lies outside/);
    await expect(call('createSegment', { recordingId, start: 2, end: 1 })).rejects.toThrow(/at least 20 ms after/);
    const id = (await call('createSegment', { recordingId, start: 1, end: 2 })).utteranceIds[0];
    await expect(call('createSegment', { recordingId, start: 1.5, end: 2.5 })).rejects.toThrow(/overlaps utterance/);
    await expect(call('resizeSegment', { utteranceId: id, start: -1, end: 2 })).rejects.toThrow(/start/);
    await expect(call('splitSegment', { utteranceId: id, at: 2.5 })).rejects.toThrow(/must lie inside/);
    await expect(call('mergeSegmentWithNext', { utteranceId: id })).rejects.toThrow(/last segment/);
    await call('deleteSegment', { utteranceId: id });
    await expect(call('setLabel', { utteranceId: id, labelId: 1 })).rejects.toThrow(/not found/);
    expect(studio.store.rows()).toEqual([]);
  });

  it('splits a segment that five annotators labelled: every label kept on both halves, flagged', async () => {
    const id = (await call('createSegment', { recordingId, start: 1, end: 3 })).utteranceIds[0];
    for (const [i, name] of ['ann', 'bo', 'cy', 'di', 'ed'].entries()) {
      await call('setAnnotator', { annotator: name });
      await call('setLabel', { utteranceId: id, labelId: (i % 4) + 1 });
    }
    const { utteranceIds } = await call('splitSegment', { utteranceId: id, at: 2 });
    const labels = (u: number) =>
      studio.store.segments
        .snapshot([u])
        .annotations.map((a) => [a.annotator, a.labelId])
        .sort();
    expect(labels(utteranceIds[1])).toEqual(labels(utteranceIds[0]));
    expect(labels(utteranceIds[0])).toHaveLength(5);
    await call('undo');
    expect(labels(id)).toHaveLength(5);
    expect(studio.store.rows().map((r) => [r.start, r.end, r.needsReview])).toEqual([[1, 3, false]]);
  });
});
