import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OperationName } from '../../../../shared/contract';
import { FakeClient, row, studioHandlers } from '../testing/fake-client';
import { StudioState } from './studio.svelte';

const CALM = { id: 1, name: 'calm', color: '#336699', hotkey: '1', position: 0, definition: '', examples: [] };
const ANGRY = { ...CALM, id: 2, name: 'angry', hotkey: '2', position: 1 };

/** A studio connected to a fake core with two utterances; `reads()` counts the reads since the last call. */
async function connected() {
  let rows = [row(1), row(2)];
  const fake = new FakeClient({
    ...studioHandlers(() => rows),
    listLabels: () => [CALM],
    setLabel: ({ utteranceId, labelId }) => ({ row: row(utteranceId, { labelId, annotator: 'ana' }) }),
  });
  const studio = new StudioState(fake.client);
  const disconnect = studio.connect();
  await vi.advanceTimersByTimeAsync(1000);
  let seen = fake.calls.length;
  const reads = () => {
    const counts: Partial<Record<OperationName, number>> = {};
    for (const { name } of fake.calls.slice(seen)) counts[name] = (counts[name] ?? 0) + 1;
    seen = fake.calls.length;
    return counts;
  };
  return { fake, studio, disconnect, reads, setRows: (next: typeof rows) => (rows = next) };
}

describe('StudioState: events are the one refresh path', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('window', new EventTarget());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('loads the project once on connect', async () => {
    const { studio, fake, disconnect } = await connected();
    expect(studio.rows.map((r) => r.id)).toEqual([1, 2]);
    expect(studio.labels).toEqual([CALM]);
    expect(studio.selectedId).toBe(1);
    expect(fake.count('listUtterances')).toBe(1);
    expect(fake.count('getProjectInfo')).toBe(1);
    disconnect();
  });

  it('an import (labelsChanged, then utterancesChanged added) reloads the list once and the counts once', async () => {
    const { studio, fake, reads, setRows, disconnect } = await connected();
    setRows([row(1), row(2), row(3)]);
    // What the core announces after an import that added a label and an utterance (domain-events.test).
    fake.emit('labelsChanged', [CALM, ANGRY]);
    fake.emit('utterancesChanged', { change: 'added', count: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads()).toEqual({ listUtterances: 1, getProjectInfo: 1 });
    expect(studio.labels.map((l) => l.name)).toEqual(['calm', 'angry']);
    expect(studio.rows).toHaveLength(3);
    disconnect();
  });

  it('a relink (utterancesChanged relinked) reloads the list once', async () => {
    const { fake, reads, disconnect } = await connected();
    fake.emit('utterancesChanged', { change: 'relinked', count: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads()).toEqual({ listUtterances: 1, getProjectInfo: 1 });
    disconnect();
  });

  it('a label change updates its row, not the list', async () => {
    const { studio, fake, reads, disconnect } = await connected();
    fake.emit('annotationChanged', { row: row(2, { labelId: 1, annotator: 'bea' }) });
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads()).toEqual({});
    expect(studio.rowById(2)?.labelId).toBe(1);
    disconnect();
  });

  it("this window's own label edit: one request, the row from its answer, no list reload", async () => {
    const { studio, fake, reads, disconnect } = await connected();
    studio.setAutoAdvance(false);
    const edit = studio.setLabel(1);
    expect(studio.selectedRow?.labelId).toBe(1); // shown at once
    // The core announces it too, while the edit is in flight: the response settles the row.
    fake.emit('annotationChanged', { row: row(1, { labelId: 1, annotator: 'ana' }) });
    await edit;
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads()).toEqual({ setLabel: 1, getProjectInfo: 1 });
    expect(studio.saveSummary).toEqual({ state: 'saved' });
    disconnect();
  });

  it('an undo selects what it changed, unless the selection moved on while it was on its way (J right after Ctrl+Z)', async () => {
    const { studio, fake, disconnect } = await connected();
    const answers: (() => void)[] = [];
    fake.handle({
      undo: () => new Promise((r) => answers.push(() => r({ row: row(1, { labelId: null }) }))),
    });
    studio.select(2);
    void studio.undo(); // while on 2: the undone change is 1's, which is selected when it arrives
    await vi.advanceTimersByTimeAsync(0);
    answers.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(studio.selectedId).toBe(1);
    const undone = studio.undo();
    await vi.advanceTimersByTimeAsync(0);
    studio.selectOffset(1); // J pressed before the answer came back
    expect(studio.selectedId).toBe(2);
    answers.shift()!();
    await undone;
    expect(studio.selectedId).toBe(2);
    disconnect();
  });
});

describe('StudioState media', () => {
  it('gives the client’s URL for a host file and asks the core nothing', () => {
    const fake = new FakeClient({});
    const studio = new StudioState(fake.client);
    expect(studio.mediaUrl('/data/spk_a_01.wav')).toBe('media:///data/spk_a_01.wav');
    expect(fake.calls).toEqual([]);
  });
});
