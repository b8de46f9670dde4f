// Issue 10: the "unsure / skip" flag (per annotator, undoable, filterable) and transcripts and
// speakers edited in place (undoable with the other edits, searchable), on a real SQLite project,
// through the services and through the real loopback host over HTTP.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import { startLoopbackHost, type LoopbackHost } from '../../src/main/host/loopback-host';
import type { EventName, UtteranceFilter } from '../../src/shared/contract';
import { UtteranceFilter as FilterSchema } from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

let studio: Studio;
let file: string;
let ids: number[];

const list = (filter: Partial<UtteranceFilter> = {}) =>
  studio.store.utterances.list(FilterSchema.parse(filter), studio.store.rowContext()).map((r) => r.id);

beforeEach(async () => {
  ({ studio, file } = openTempStudio());
  const corpus = tempDir();
  copyInto(path.join(corpus, 'spk_a'), demoClips('spk_a', 3));
  await runImport(studio, corpus);
  ids = studio.store.rows().map((r) => r.id);
});
afterEach(async () => {
  await studio.close();
});

describe('unsure / skip', () => {
  it('is per annotator, kept with the label, undoable, filterable, and on disk', async () => {
    const [a, b] = ids;
    const events: EventName[] = [];
    studio.events.subscribe((e) => void events.push(e));
    studio.store.annotator = 'maria';
    const sad = studio.store.labels.byName('sad')!.id;
    studio.annotations.setLabel(a!, sad);
    const { row } = studio.annotations.setUnsure(a!, true);
    expect(row).toMatchObject({ id: a, unsure: true, labelId: sad });
    // Unsure without a label is an annotation too.
    expect(studio.annotations.setUnsure(b!, true).row).toMatchObject({ unsure: true, labelId: null });
    expect(events).toEqual(['annotationChanged', 'annotationChanged', 'annotationChanged']);
    expect(list({ unsure: true })).toEqual([a, b]);
    expect(list({ unsure: true, status: 'labelled' })).toEqual([a]);

    // Another annotator sees their own flag, not maria's.
    studio.store.annotator = 'tom';
    expect(studio.store.row(a!)!.unsure).toBe(false);
    expect(list({ unsure: true })).toEqual([]);

    // Undo clears it (the label stays), redo sets it again.
    studio.store.annotator = 'maria';
    expect(studio.segments.undo().row).toMatchObject({ id: b, unsure: false });
    expect(studio.segments.undo().row).toMatchObject({ id: a, unsure: false, labelId: sad });
    expect(studio.segments.redo().row).toMatchObject({ id: a, unsure: true, labelId: sad });
    expect(studio.store.annotations.get(a!, 'human', 'maria')).toMatchObject({ unsure: true, labelId: sad });

    // A segment edit carries it, and its undo brings it back.
    const rec = studio.store.utterances.byId(a!)!;
    studio.segments.split(a!, (rec.start + rec.end) / 2);
    const halves = list({ unsure: true });
    expect(halves).toHaveLength(2);
    studio.segments.undo();
    expect(list({ unsure: true })).toEqual([a]);

    await studio.close();
    studio = Studio.open(file);
    studio.store.annotator = 'maria';
    expect(studio.store.row(a!)).toMatchObject({ unsure: true, labelId: sad });
  });

  it('is cleared to nothing: an annotation with no label, ratings, note or flag is removed', () => {
    const [a] = ids;
    studio.annotations.setUnsure(a!, true);
    studio.annotations.setUnsure(a!, false);
    expect(studio.store.annotations.get(a!, 'human', studio.store.annotator)).toBeUndefined();
  });
});

describe('transcript and speaker in place', () => {
  it('saves, undoes and redoes with the label edits, without touching labels or spans', () => {
    const [a, b] = ids;
    const before = studio.store.row(a!)!;
    const happy = studio.store.labels.byName('happy')!.id;
    studio.annotations.setLabel(a!, happy);
    const events: EventName[] = [];
    studio.events.subscribe((e) => void events.push(e));

    const edited = studio.segments.setText(a!, { transcript: '  Kids are talking\r\nby the door ', speaker: ' ana ' });
    expect(edited.row).toMatchObject({ transcript: 'Kids are talking\nby the door', speaker: 'ana', labelId: happy });
    expect(events).toEqual(['annotationChanged']);
    // Nothing changed: nothing recorded, nothing announced.
    studio.segments.setText(a!, { speaker: 'ana' });
    expect(events).toEqual(['annotationChanged']);
    expect(studio.store.utterances.speakers()).toContain('ana');

    studio.annotations.setLabel(b!, happy);
    studio.segments.setText(a!, { speaker: '' });
    expect(studio.store.row(a!)!.speaker).toBeNull();

    // Undo walks all of it, newest first: the speaker, b's label, then the text edit.
    expect(studio.segments.undo().row).toMatchObject({ id: a, speaker: 'ana' });
    expect(studio.segments.undo().row).toMatchObject({ id: b, labelId: null });
    const undone = studio.segments.undo();
    expect(undone).toMatchObject({
      segments: true,
      row: { id: a, transcript: before.transcript, speaker: before.speaker },
    });
    expect(undone.row).toMatchObject({ labelId: happy, start: before.start, end: before.end });
    expect(studio.segments.redo().row).toMatchObject({
      id: a,
      transcript: 'Kids are talking\nby the door',
      labelId: happy,
    });
    // Another annotator's label made meanwhile survives an undo of the text.
    studio.store.annotator = 'tom';
    studio.annotations.setLabel(a!, studio.store.labels.byName('sad')!.id);
    studio.store.annotator = 'annotator';
    studio.segments.undo();
    expect(studio.store.row(a!)!.transcript).toBe(before.transcript);
    expect(studio.store.annotations.get(a!, 'human', 'tom')?.labelId).toBe(studio.store.labels.byName('sad')!.id);
  });

  it('is searchable, and search covers speakers and notes', () => {
    const [a, b, c] = ids;
    studio.segments.setText(a!, { transcript: 'The zebra crossed' });
    studio.segments.setText(b!, { speaker: 'Zelda' });
    studio.annotations.setDimensions(c!, { valence: null, arousal: null, dominance: null, note: 'laughs; zany' });
    expect(list({ search: 'zebra' })).toEqual([a]);
    expect(list({ search: 'zelda' })).toEqual([b]);
    expect(list({ search: 'zany' })).toEqual([c]);
    expect(list({ search: 'z' }).sort()).toEqual([a, b, c].sort());
    // Another annotator's note is theirs: not found by someone else's search.
    studio.store.annotator = 'tom';
    expect(list({ search: 'zany' })).toEqual([]);
  });
});

describe('over the loopback host', () => {
  let host: LoopbackHost;
  let base: string;
  beforeEach(async () => {
    const renderer = tempDir();
    fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
    host = await startLoopbackHost({ studio, rendererDir: renderer, token: 'tok-unsure-text' });
    base = `http://127.0.0.1:${host.port}`;
  });
  afterEach(async () => {
    await host.close();
  });
  const api = async (name: string, body: unknown) => {
    const res = await fetch(`${base}/api/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tok-unsure-text' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('validates at the boundary, saves, filters, searches and undoes', async () => {
    const [a] = ids;
    expect((await api('setUnsure', { utteranceId: a, unsure: 'yes' })).status).toBe(400);
    expect((await api('setUtteranceText', { utteranceId: a })).status).toBe(400);
    expect((await api('setUtteranceText', { utteranceId: a, transcript: 'x'.repeat(10_001) })).status).toBe(400);
    expect((await api('setUnsure', { utteranceId: a, unsure: true })).body).toMatchObject({
      row: { id: a, unsure: true },
    });
    expect(
      (await api('setUtteranceText', { utteranceId: a, transcript: 'Quietly now', speaker: 'Bo' })).body,
    ).toMatchObject({
      row: { id: a, transcript: 'Quietly now', speaker: 'Bo', unsure: true },
    });
    const unsure = await api('listUtterances', { unsure: true });
    expect((unsure.body.rows as { id: number }[]).map((r) => r.id)).toEqual([a]);
    const found = await api('listUtterances', { search: 'quietly' });
    expect((found.body.rows as { id: number }[]).map((r) => r.id)).toEqual([a]);
    expect((await api('undo', {})).body).toMatchObject({ segments: true, row: { id: a, speaker: 'spk_a' } });
    expect((await api('undo', {})).body).toMatchObject({ row: { id: a, unsure: false } });
  });
});
