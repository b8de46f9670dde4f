import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClient, row } from '../testing/fake-client';
import { ListState } from './list-state.svelte';
import { Messages } from './messages.svelte';
import { SelectionState } from './selection.svelte';

const ROWS = [row(1), row(2), row(3)];

function waveform(utteranceId: number, window?: { start: number; end: number }) {
  return {
    utteranceId,
    mediaPath: `c/${utteranceId}.wav`,
    clipStart: window?.start ?? 0,
    clipEnd: window?.end ?? 1,
    recordingDurationS: 100,
    windowed: window !== undefined,
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
  const messages = new Messages();
  const selection = new SelectionState(fake.client, list, messages, () => left.push(selection.id));
  return { fake, list, selection, left, messages };
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

  it('shows a window of the recording (deep zoom): the latest ask wins, reloads keep it, a new selection drops it', async () => {
    vi.useFakeTimers();
    const { fake, selection } = await setup();
    const answers: (() => void)[] = [];
    fake.handle({
      getWaveform: ({ utteranceId, window }) =>
        window ? new Promise((r) => answers.push(() => r(waveform(utteranceId, window)))) : waveform(utteranceId),
    });
    selection.select(1);
    await vi.advanceTimersByTimeAsync(60);
    const first = selection.showWindow({ start: 10, end: 30 });
    const second = selection.showWindow({ start: 40, end: 60 });
    await vi.advanceTimersByTimeAsync(0);
    answers[1]!();
    answers[0]!();
    expect(await Promise.all([first, second])).toEqual(['superseded', 'shown']);
    expect(selection.waveform).toMatchObject({ clipStart: 40, clipEnd: 60, windowed: true });
    // A segment edit reloads the same window.
    const reload = selection.reloadWaveform();
    await vi.advanceTimersByTimeAsync(0);
    answers[2]!();
    await reload;
    expect(fake.calls.filter((c) => c.name === 'getWaveform').at(-1)!.input).toEqual({
      utteranceId: 1,
      contextSeconds: 0.5,
      window: { start: 40, end: 60 },
    });
    // Back to the utterance's clip, then another utterance starts from its own clip.
    await selection.showWindow(null);
    expect(selection.waveform?.windowed).toBe(false);
    void selection.showWindow({ start: 5, end: 25 });
    selection.select(2);
    await vi.advanceTimersByTimeAsync(60);
    expect(fake.calls.filter((c) => c.name === 'getWaveform').at(-1)!.input).toEqual({
      utteranceId: 2,
      contextSeconds: 0.5,
    });
  });

  it('keeps what is shown when a window fails to load, and says why', async () => {
    vi.useFakeTimers();
    const { fake, selection, messages } = await setup();
    selection.select(1);
    await vi.advanceTimersByTimeAsync(60);
    fake.handle({
      getWaveform: () => {
        throw new Error('The window starts at 900 s, past the end of a.wav (100.000 s)');
      },
    });
    expect(await selection.showWindow({ start: 900, end: 920 })).toBe('failed');
    expect(selection.waveform).toMatchObject({ utteranceId: 1, windowed: false });
    expect(messages.error).toMatch(/Could not load that part of the recording: .*past the end/);
  });
});
