import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import type { UtteranceFilter } from '../../src/shared/contract';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { demoClips, openTempStudio, runImport, tempDir, copyInto } from '../helpers/fixtures';

let studio: Studio;
let file: string;
let ids: number[];
let label: (name: string) => number;

beforeEach(async () => {
  ({ studio, file } = openTempStudio());
  const root = tempDir();
  const clips = demoClips('spk_b', 4);
  copyInto(root, [...clips, ...clips.map((c) => c.replace(/\.wav$/, '.txt'))]);
  await runImport(studio, root);
  ids = studio.store.rows().map((r) => r.id);
  label = (name) => studio.store.labels.byName(name)!.id;
});
afterEach(async () => {
  await studio.close();
});

const labelOf = (id: number) => studio.annotations.row(id).labelId;

describe('labelling', () => {
  it('commits a label before returning it, so a fresh connection sees it', () => {
    const result = studio.annotations.setLabel(ids[0]!, label('happy'));
    expect(result.row.labelId).toBe(label('happy'));
    const other = Studio.open(file);
    expect(other.annotations.row(ids[0]!).labelId).toBe(label('happy'));
    void other.close();
  });

  it('keeps per-annotator labels apart and counts only the current annotator', () => {
    studio.annotations.setLabel(ids[0]!, label('happy'));
    studio.store.annotator = 'bob';
    expect(labelOf(ids[0]!)).toBeNull();
    studio.annotations.setLabel(ids[0]!, label('sad'));
    studio.annotations.setLabel(ids[1]!, label('sad'));
    expect(studio.info().counts.labelled).toBe(2);
    studio.store.annotator = 'annotator';
    expect(labelOf(ids[0]!)).toBe(label('happy'));
    expect(studio.info().counts.labelled).toBe(1);
  });

  it('undoes and redoes in stack order, and a new edit clears the redo stack', () => {
    const a = studio.annotations;
    a.setLabel(ids[0]!, label('happy'));
    a.setLabel(ids[1]!, label('angry'));
    a.setLabel(ids[1]!, label('sad'));
    expect(a.undo()!.id).toBe(ids[1]);
    expect(labelOf(ids[1]!)).toBe(label('angry'));
    a.undo();
    expect(labelOf(ids[1]!)).toBeNull();
    a.undo();
    expect(labelOf(ids[0]!)).toBeNull();
    expect(a.undo()).toBeNull();
    a.redo();
    expect(labelOf(ids[0]!)).toBe(label('happy'));
    a.redo();
    expect(labelOf(ids[1]!)).toBe(label('angry'));
    a.undo();
    a.undo();
    expect([labelOf(ids[0]!), labelOf(ids[1]!)]).toEqual([null, null]);
    a.setLabel(ids[2]!, label('neutral'));
    expect(a.redo()).toBeNull();
    a.undo();
    expect(labelOf(ids[2]!)).toBeNull();
  });

  it('survives a reopen: undo continues from the stored history', () => {
    studio.annotations.setLabel(ids[0]!, label('happy'));
    studio.annotations.setLabel(ids[0]!, label('sad'));
    void studio.close();
    studio = Studio.open(file);
    studio.annotations.undo();
    expect(labelOf(ids[0]!)).toBe(label('happy'));
  });

  it('records every change and its undo in the append-only history', () => {
    studio.annotations.setLabel(ids[0]!, label('happy'));
    studio.annotations.setDimensions(ids[0]!, { valence: 4, arousal: 2, dominance: null, note: 'laughs' });
    studio.annotations.undo();
    const history = studio.store.annotations.history(ids[0]!);
    expect(history.map((h) => h.op)).toEqual(['edit', 'edit', 'undo']);
    expect(history[1]!.after).toMatchObject({ labelId: label('happy'), valence: 4, arousal: 2, note: 'laughs' });
    expect(history[2]!.targetSeq).toBe(history[1]!.seq);
    expect(studio.store.annotations.get(ids[0]!, 'human', 'annotator')).toMatchObject({ valence: null, note: '' });
  });

  it('validates requests at the API boundary with specific messages', async () => {
    const handlers = createHandlers(studio);
    await expect(invokeOperation(handlers, 'setLabel', { utteranceId: -1, labelId: 1 })).rejects.toThrow(/utteranceId/);
    await expect(invokeOperation(handlers, 'setLabel', { utteranceId: 999999, labelId: 1 })).rejects.toThrow(
      /Utterance 999999 not found/,
    );
    await expect(invokeOperation(handlers, 'setLabel', { utteranceId: ids[0], labelId: 999 })).rejects.toThrow(
      /Label 999 not found/,
    );
    await expect(
      invokeOperation(handlers, 'setDimensions', {
        utteranceId: ids[0],
        valence: 7,
        arousal: null,
        dominance: null,
        note: '',
      }),
    ).rejects.toThrow(/valence/);
    await expect(invokeOperation(handlers, 'dropTables', {})).rejects.toThrow(/Unknown operation/);
    await expect(invokeOperation(handlers, 'getProjectInfo', { extra: 1 })).rejects.toThrow(/Invalid request/);
  });

  it('edits the label set: hotkeys move, names stay unique, used labels cannot be deleted', () => {
    const handlers = createHandlers(studio);
    let labels = studio.labels.save({ name: 'frustrated', color: '#aa3300', hotkey: '1' });
    expect(labels.find((l) => l.name === 'frustrated')!.hotkey).toBe('1');
    expect(labels.find((l) => l.name === 'neutral')!.hotkey).toBeNull();
    expect(() => studio.labels.save({ name: 'Happy', color: '#000000', hotkey: null })).toThrow(/already exists/);
    studio.annotations.setLabel(ids[0]!, label('sad'));
    expect(() => studio.labels.delete(label('sad'))).toThrow(/used by 1 annotation/);
    labels = studio.labels.delete(label('frustrated'));
    expect(labels.map((l) => l.name)).toEqual(['neutral', 'happy', 'angry', 'sad']);
    void handlers;
  });

  it('filters the list by status, label, speaker and transcript search', () => {
    studio.annotations.setLabel(ids[0]!, label('happy'));
    studio.annotations.setLabel(ids[1]!, label('sad'));
    const list = (f: Partial<UtteranceFilter>) => studio.store.rows(f).map((r) => r.id);
    expect(list({ status: 'unlabelled' })).toEqual(ids.slice(2));
    expect(list({ status: 'labelled' })).toEqual(ids.slice(0, 2));
    expect(list({ labelId: label('sad') })).toEqual([ids[1]]);
    expect(list({ speaker: 'nobody' })).toEqual([]);
    expect(list({ search: 'WONDERFUL' })).toHaveLength(1);
    expect(list({ search: 'spk_b_04' })).toEqual([ids[3]]);
    expect(list({ search: '100%_' })).toEqual([]);
  });
});
