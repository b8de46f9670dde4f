import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { JobsState } from './jobs.svelte';
import { ModelsState } from './models.svelte';

const model = (id: number, active: boolean): ModelInfo => ({
  id,
  name: `model-${id}`,
  bundleName: `model-${id}`,
  version: '0.2.0',
  location: `/models/${id}`,
  labels: ['neutral'],
  builtin: id === 1,
  active,
});

describe('ModelsState', () => {
  it('web mode has no native folder chooser for a bundle; adding one returns the core’s refusal', async () => {
    const fake = new FakeClient({
      addModel: ({ path }) => {
        if (!path.endsWith('bundle')) throw new Error(`No model.json in ${path}`);
        return [model(1, false), model(2, true)];
      },
    });
    const models = new ModelsState(fake.client, new JobsState(fake.client));
    expect(models.chooseBundleFolder).toBeNull();
    expect(await models.add('/data/notes')).toBe('No model.json in /data/notes');
    expect(models.models).toEqual([]);
    expect(await models.add('/data/bundle')).toBeNull();
    expect(models.active?.id).toBe(2);
  });
});
