import { describe, expect, it } from 'vitest';
import type { RecordingOverview } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { OverviewState } from './overview.svelte';

const overviewOf = (recordingId: number): RecordingOverview => ({
  recordingId,
  durationS: 60,
  peaks: [0.1, 0.5, 0.2],
  segments: [{ utteranceId: 7, start: 1, end: 2, labelId: null }],
  truncated: false,
});

describe('OverviewState', () => {
  it('keeps only the latest load’s answer', async () => {
    let release: (() => void) | null = null;
    const fake = new FakeClient({
      getRecordingOverview: async ({ recordingId }) => {
        if (recordingId === 1) await new Promise<void>((resolve) => (release = resolve));
        return overviewOf(recordingId);
      },
    });
    const state = new OverviewState(fake.client, 0);
    const slow = state.load(1, 0);
    await state.load(2, 30);
    expect(state.overview?.recordingId).toBe(2);
    release!();
    await slow;
    expect(state.overview?.recordingId).toBe(2);
    expect(fake.calls.map((c) => c.input)).toEqual([
      { recordingId: 1, peaks: 1200, around: 0 },
      { recordingId: 2, peaks: 1200, around: 30 },
    ]);
  });

  it('asks once for a burst of selections: the last one, after they settle', async () => {
    const fake = new FakeClient({ getRecordingOverview: async ({ recordingId }) => overviewOf(recordingId) });
    const state = new OverviewState(fake.client, 20);
    const loads = [1, 2, 3, 4].map((id) => state.load(id, id));
    await Promise.all(loads);
    expect(fake.calls.map((c) => c.input)).toEqual([{ recordingId: 4, peaks: 1200, around: 4 }]);
    expect(state.overview?.recordingId).toBe(4);
  });

  it('says when the overview cannot be loaded, and clears', async () => {
    const state = new OverviewState(new FakeClient({}).client, 0);
    await state.load(1, 0);
    expect(state.overview).toBeNull();
    expect(state.error).toMatch(/could not be loaded/);
    state.clear();
    expect(state.error).toBeNull();
  });
});
