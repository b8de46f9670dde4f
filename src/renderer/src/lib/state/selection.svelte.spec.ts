import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClient, row } from '../testing/fake-client';
import { ListState } from './list-state.svelte';
import { Messages } from './messages.svelte';
import { SelectionState } from './selection.svelte';

const ROWS = [row(1), row(2), row(3)];

function waveform(utteranceId: number) {
  return {
    utteranceId,
    mediaPath: `c/${utteranceId}.wav`,
    clipStart: 0,
    clipEnd: 1,
    peaks: [0.5],
    peaksPerSecond: 1,
    regions: [],
  };
}

async function setup() {
  const fake = new FakeClient({
    listUtterances: () => ({ rows: ROWS, total: 3, filtered: 3, offset: 0 }),
    getWaveform: ({ utteranceId }) => waveform(utteranceId),
    getAnnotation: ({ utteranceId }) => ({
      utteranceId,
      labelId: null,
      valence: utteranceId,
      arousal: null,
      dominance: null,
      note: `note ${utteranceId}`,
      unsure: false,
      origin: 'human' as const,
      annotator: 'ana',
      updatedAt: '2025-01-01T00:00:00.000Z',
    }),
    getPrediction: () => null,
  });
  const list = new ListState(fake.client);
  await list.load();
  const left: (number | null)[] = [];
  const selection = new SelectionState(fake.client, list, new Messages(), () => left.push(selection.id));
  return { fake, list, selection, left };
}

describe('SelectionState', () => {
  afterEach(() => vi.useRealTimers());

  it('loads only where the selection settles (held J), then the waveform, ratings and prediction', async () => {
    vi.useFakeTimers();
    const { fake, selection } = await setup();
    selection.select(1);
    selection.selectOffset(1);
    selection.selectOffset(1);
    expect(selection.row?.id).toBe(3);
    expect(selection.index).toBe(2);
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.filter((c) => c.name === 'getWaveform').map((c) => c.input)).toEqual([
      { utteranceId: 3, contextSeconds: 0.5 },
    ]);
    expect(selection.waveform?.utteranceId).toBe(3);
    expect(selection.dimensionsFor).toBe(3);
    expect(selection.dimensions).toEqual({ valence: 3, arousal: null, dominance: null, note: 'note 3' });
    expect(selection.predictionFor).toBe(3);
  });

  it('drops an answer for an earlier selection', async () => {
    vi.useFakeTimers();
    const { fake, selection } = await setup();
    let answer!: () => void;
    fake.handle({ getWaveform: ({ utteranceId }) => new Promise((r) => (answer = () => r(waveform(utteranceId)))) });
    selection.select(1);
    await vi.advanceTimersByTimeAsync(60);
    fake.handle({ getWaveform: ({ utteranceId }) => waveform(utteranceId) });
    selection.select(2);
    await vi.advanceTimersByTimeAsync(60);
    answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(selection.waveform?.utteranceId).toBe(2);
    expect(selection.dimensionsFor).toBe(2);
  });

  it('clamps moves to the list, and enters it from either end', async () => {
    const { selection } = await setup();
    selection.selectOffset(-1);
    expect(selection.id).toBe(3);
    selection.selectOffset(5);
    expect(selection.id).toBe(3);
    selection.selectEdge('first');
    expect(selection.id).toBe(1);
    selection.selectOffset(-1);
    expect(selection.id).toBe(1);
    selection.dispose();
  });

  it('tells its owner before leaving an utterance, and follows the list', async () => {
    const { selection, left } = await setup();
    selection.select(2);
    selection.select(3);
    expect(left).toEqual([2]);
    selection.followList([row(3), row(4)], false);
    expect(selection.id).toBe(3); // still listed: kept
    selection.followList([row(3), row(4)], true);
    expect(selection.id).toBe(3); // a new order starts at the top, which is 3
    selection.followList([row(4)], false);
    expect(selection.id).toBe(4);
    selection.followList([], false);
    expect(selection.id).toBeNull();
    selection.dispose();
  });
});
