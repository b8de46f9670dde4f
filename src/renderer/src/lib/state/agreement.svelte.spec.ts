import { describe, expect, it } from 'vitest';
import type { AgreementReport } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { AgreementState } from './agreement.svelte';

const none = { value: null, ci: null, n: 0 };
const dimension = { alphaInterval: none, alphaOrdinal: none, ccc: [] };
const REPORT: AgreementReport = {
  project: 'Study',
  settings: { labelsPerUtterance: 2, blind: false, blindModel: false, consensusRule: 'majority', calibrationShare: 0 },
  annotators: ['ana', 'bo'],
  labels: [{ id: 1, name: 'neutral' }],
  items: 4,
  pairableItems: 4,
  consensus: { pending: 0, agreed: 3, disagreed: 1, adjudicated: 0 },
  categorical: {
    fleissKappa: { value: 0.5, ci: { low: 0.1, high: 0.8, replicates: 200 }, n: 4 },
    krippendorffAlpha: none,
    pairwise: [],
    perClass: [],
    confusedPairs: [],
    perAnnotator: [],
    model: null,
  },
  dimensions: { valence: dimension, arousal: dimension, dominance: dimension },
  bootstrap: { replicates: 200, seed: 13 },
  warnings: [],
};

describe('AgreementState', () => {
  it('asks the core for the report with 200 bootstrap rounds and seed 13', async () => {
    const fake = new FakeClient({ getAgreement: () => REPORT });
    const agreement = new AgreementState(fake.client);
    const loading = agreement.load();
    expect(agreement.computing).toBe(true);
    expect(await loading).toBeNull();
    expect(agreement.computing).toBe(false);
    expect(agreement.report?.categorical.fleissKappa.value).toBe(0.5);
    expect(fake.calls[0]?.input).toEqual({ bootstrap: 200, seed: 13 });
  });

  it('a refusal is returned as the core’s message and the last report stays', async () => {
    const fake = new FakeClient({ getAgreement: () => REPORT });
    const agreement = new AgreementState(fake.client);
    await agreement.load();
    fake.handle({
      getAgreement: () => {
        throw new Error('Agreement needs at least two annotators');
      },
    });
    expect(await agreement.load()).toBe('Agreement needs at least two annotators');
    expect(agreement.report).toEqual(REPORT);
    expect(agreement.computing).toBe(false);
  });
});
