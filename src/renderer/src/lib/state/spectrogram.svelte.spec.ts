import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OperationInput, SpectrogramTile } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { SpectrogramState, TILE_PX, type SpectrogramView } from './spectrogram.svelte';

type TileInput = OperationInput<'getSpectrogramTile'>;

/** A tile as the core answers it, every value the same. */
const answer = (input: TileInput): SpectrogramTile => ({
  recordingId: input.recordingId!,
  startSeconds: input.startSeconds,
  endSeconds: input.endSeconds,
  widthPx: input.widthPx,
  heightPx: input.heightPx,
  scale: input.scale ?? 'mel',
  minHz: 0,
  maxHz: 8000,
  sampleRate: 16000,
  fftSize: 512,
  hopSamples: 100,
  framesPerColumn: 1,
  dbFloor: -120,
  dbCeiling: 0,
  values: new Array<number>(input.widthPx * input.heightPx).fill(128),
});

// A 20 s clip from 100 s, at 100 px/s: 2000 px wide, 8 tiles; the panel shows 600 px.
const VIEW: SpectrogramView = {
  recordingId: 3,
  clipStart: 100,
  clipEnd: 120,
  pxPerSecond: 100,
  scrollPx: 0,
  widthPx: 600,
  heightPx: 150,
};

describe('SpectrogramState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = () => {
    const fake = new FakeClient({ getSpectrogramTile: answer });
    const state = new SpectrogramState(fake.client, 150);
    const asked = () =>
      fake.calls.filter((c) => c.name === 'getSpectrogramTile').map((c) => (c.input as TileInput).startSeconds);
    return { fake, state, asked };
  };

  it('asks nothing while hidden; once shown, the tiles of the view (and one beyond) after it settles', async () => {
    const { state, asked } = setup();
    state.setView(VIEW);
    await vi.advanceTimersByTimeAsync(500);
    expect(asked()).toEqual([]);
    state.toggle();
    await vi.advanceTimersByTimeAsync(100);
    expect(asked()).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    // 600 px from 0: tiles 0, 1, 2 in view, 3 beyond; each 2.56 s of recording time from the clip's start.
    expect(asked()).toEqual([100, 102.56, 105.12, 107.68]);
    expect(state.tilesInView.map((t) => t.x)).toEqual([0, TILE_PX, 2 * TILE_PX]);
  });

  it('fetches once per tile: a scroll asks only the new ones, scrolling back asks none; a zoom asks anew', async () => {
    const { state, asked } = setup();
    state.toggle();
    state.setView(VIEW);
    await vi.advanceTimersByTimeAsync(200);
    // Scroll in small steps: one request round, for where it stopped.
    for (const scrollPx of [100, 300, 500, 700]) state.setView({ ...VIEW, scrollPx });
    await vi.advanceTimersByTimeAsync(200);
    // 700..1300 px: tiles 2-5 in view, 6 beyond; 4, 5 and 6 are new.
    expect(asked().length).toBe(7);
    expect(state.tilesInView.map((t) => t.x)).toEqual([512 - 700, 768 - 700, 1024 - 700, 1280 - 700]);
    state.setView(VIEW);
    await vi.advanceTimersByTimeAsync(200);
    expect(asked().length).toBe(7);
    state.setView({ ...VIEW, pxPerSecond: 150 });
    await vi.advanceTimersByTimeAsync(200);
    expect(asked().length).toBe(11);
    expect(state.requested).toBe(11);
  });

  it('just after a zoom, the tiles of the old zoom stand in, stretched, until the new ones arrive', async () => {
    const { state } = setup();
    state.toggle();
    state.setView(VIEW);
    await vi.advanceTimersByTimeAsync(200);
    state.setView({ ...VIEW, pxPerSecond: 150 });
    const standIns = state.tilesInView;
    expect(standIns.every((t) => t.stale)).toBe(true);
    // In view at 150 px/s: tiles 0-2, 0..5.12 s; the old zoom's tiles 0 and 1 cover that, 384 px each now.
    expect(standIns.map((t) => [Math.round(t.x), Math.round(t.width)])).toEqual([
      [0, 384],
      [384, 384],
    ]);
    await vi.advanceTimersByTimeAsync(200);
    expect(state.tilesInView.every((t) => !t.stale && t.width === TILE_PX)).toBe(true);
    expect(state.tilesInView.map((t) => t.x)).toEqual([0, 256, 512]);
  });

  it('keeps the dB range in bounds, the floor 10 dB under the ceiling', () => {
    const { state } = setup();
    expect([state.floorDb, state.ceilingDb]).toEqual([-90, -10]);
    state.setRange(-50, -45);
    expect([state.floorDb, state.ceilingDb]).toEqual([-55, -45]);
    state.setRange(-500, 30);
    expect([state.floorDb, state.ceilingDb]).toEqual([-120, 0]);
    state.resetRange();
    expect([state.floorDb, state.ceilingDb]).toEqual([-90, -10]);
  });

  it('keeps its settings in the browser: shown, scale and dB range come back in a new page', () => {
    const store = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    });
    try {
      const first = setup().state;
      expect(first.visible).toBe(false);
      first.toggle();
      first.setScale('log');
      first.setRange(-80, -20);
      const again = setup().state;
      expect([again.visible, again.scale, again.floorDb, again.ceilingDb]).toEqual([true, 'log', -80, -20]);
      store.set('wavfusion.spectrogram', '{not json');
      expect(setup().state.visible).toBe(false);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('says when the core refuses a tile', async () => {
    const fake = new FakeClient({});
    const state = new SpectrogramState(fake.client, 10);
    state.toggle();
    state.setView(VIEW);
    await vi.advanceTimersByTimeAsync(50);
    expect(state.error).toMatch(/The spectrogram could not be computed/);
  });
});
