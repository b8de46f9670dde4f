import { describe, expect, it } from 'vitest';
import type { ConsensusDetail } from '../../../../shared/contract';
import { FakeClient, row } from '../testing/fake-client';
import { AdjudicationState } from './adjudication.svelte';

/** Utterance `id`'s consensus: ana says 1, bo says 2. */
const detail = (utteranceId: number): ConsensusDetail => ({
  utteranceId,
  hidden: false,
  state: 'disagreed',
  labelId: null,
  labels: 2,
  needed: 2,
  agreement: 0.5,
  counts: [
    { labelId: 1, votes: 1 },
    { labelId: 2, votes: 1 },
  ],
  votes: ['ana', 'bo'].map((annotator, i) => ({
    annotator,
    labelId: i + 1,
    valence: null,
    arousal: null,
    dominance: null,
    note: '',
    updatedAt: '2026-11-27T10:00:00.000Z',
  })),
  adjudication: null,
});

function host(disagreed: number[]) {
  let queue = disagreed;
  const fake = new FakeClient({
    listUtterances: () => ({
      rows: queue.map((id) => row(id)),
      total: 10,
      filtered: queue.length,
      offset: 0,
    }),
    getConsensus: ({ utteranceId }) => detail(utteranceId),
    getPrediction: () => null,
    adjudicate: ({ utteranceId, labelId, reason }) => {
      queue = queue.filter((id) => id !== utteranceId);
      return {
        ...detail(utteranceId),
        state: 'adjudicated',
        labelId,
        adjudication: { labelId, adjudicator: 'judge', reason, at: '2026-11-27T10:01:00.000Z' },
      };
    },
  });
  return fake;
}

describe('AdjudicationState', () => {
  it('reads the disagreed queue and opens its first utterance; settling it reads the queue again and opens the next', async () => {
    const fake = host([3, 5]);
    const adjudication = new AdjudicationState(fake.client);
    expect(await adjudication.load()).toBeNull();
    expect(fake.calls.find((c) => c.name === 'listUtterances')?.input).toEqual({ consensus: 'disagreed' });
    expect(adjudication.queue.map((r) => r.id)).toEqual([3, 5]);
    expect(adjudication.current?.utteranceId).toBe(3);
    expect(adjudication.prediction).toBeNull();

    // Nothing is settled without a final label.
    expect(await adjudication.settle()).toBeNull();
    expect(fake.count('adjudicate')).toBe(0);

    adjudication.chooseLabel(2);
    adjudication.setReason('bo heard the irony');
    expect(await adjudication.settle()).toBeNull();
    expect(fake.calls.find((c) => c.name === 'adjudicate')?.input).toEqual({
      utteranceId: 3,
      labelId: 2,
      reason: 'bo heard the irony',
    });
    expect(adjudication.queue.map((r) => r.id)).toEqual([5]);
    expect(adjudication.current?.utteranceId).toBe(5);
    // A newly opened utterance starts with no label or reason chosen.
    expect(adjudication.finalLabel).toBeNull();
    expect(adjudication.reason).toBe('');

    adjudication.chooseLabel(1);
    adjudication.setReason('majority of the clip');
    await adjudication.settle();
    expect(adjudication.queue).toEqual([]);
    expect(adjudication.current).toBeNull();
  });

  it('reading again keeps the utterance open while it is still in the queue', async () => {
    const fake = host([3, 5]);
    const adjudication = new AdjudicationState(fake.client);
    await adjudication.load();
    await adjudication.open(5);
    adjudication.chooseLabel(1);
    await adjudication.load();
    expect(adjudication.current?.utteranceId).toBe(5);
    expect(adjudication.finalLabel).toBe(1);
    expect(fake.count('getConsensus')).toBe(2);
  });

  it('a refusal is returned as the core’s message and the utterance stays open', async () => {
    const fake = host([3]);
    const adjudication = new AdjudicationState(fake.client);
    await adjudication.load();
    fake.handle({
      adjudicate: () => {
        throw new Error('Only an adjudicator can settle a disagreement');
      },
      getConsensus: () => {
        throw new Error('No utterance 9');
      },
    });
    adjudication.chooseLabel(1);
    adjudication.setReason('because');
    expect(await adjudication.settle()).toBe('Only an adjudicator can settle a disagreement');
    expect(adjudication.current?.utteranceId).toBe(3);
    expect(await adjudication.open(9)).toBe('No utterance 9');
    expect(adjudication.current?.utteranceId).toBe(3);

    fake.handle({
      listUtterances: () => {
        throw new Error('The studio host is not reachable');
      },
    });
    expect(await adjudication.load()).toBe('The studio host is not reachable');
    expect(adjudication.queue.map((r) => r.id)).toEqual([3]);
  });
});
