import { describe, expect, it, vi } from 'vitest';
import type { JobStatus, ModelInfo, TrainingReport } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { jobStatus, withJobs } from '../testing/jobs';
import { TrainingState } from './training.svelte';

const model = (id: number, name: string, active = false): ModelInfo => ({
  id,
  name,
  bundleName: name,
  version: '0.2.0',
  location: `/models/${name}`,
  labels: ['neutral', 'happy'],
  builtin: false,
  active,
});
const split = { WA: 0.5, UA: 0.25, macroF1: 0.2, weightedF1: 0.3, n: 8 };
const REPORT: TrainingReport = {
  trained: { model: model(2, 'demo-ft1'), validation: split, test: split },
  current: { model: model(1, 'demo', true), validation: null, test: null },
  folder: '/models/demo-ft1',
  log: '/models/demo-ft1/train.log',
  initFrom: '/models/demo',
  epochs: [
    { epoch: 1, loss: 1.2, validationWA: 0.4, validationUA: 0.3 },
    { epoch: 2, loss: 0.9, validationWA: 0.5, validationUA: 0.4 },
  ],
  items: { train: 16, validation: 4, test: 4 },
  warnings: [],
};

/** The training job `id` as the core reports it: running by default. */
const trainJob = (id: string, change: Partial<JobStatus> = {}): JobStatus =>
  jobStatus({ id, kind: 'train', title: 'Train model', total: 2 }, change);

function setup(handlers: ConstructorParameters<typeof FakeClient>[0]) {
  const { fake, jobs, off } = withJobs(handlers);
  return { fake, training: new TrainingState(fake.client, jobs), off };
}

describe('TrainingState', () => {
  it('trains, shows the live curve from the job’s metrics, then the report’s, and activates the new model', async () => {
    const { fake, training, off } = setup({
      startTraining: () => ({ jobId: 't1' }),
      setActiveModel: ({ id }) => [model(1, 'demo', id === 1), model(2, 'demo-ft1', id === 2)],
    });
    const done = training.train(2, 'active');
    fake.emit('jobUpdated', trainJob('t1', { metrics: { epoch: 1, epochs: 2, curve: '[[1,1.2,0.3]]' } }));
    await vi.waitFor(() => expect(training.status?.id).toBe('t1'));
    expect(training.busy).toBe(true);
    expect(training.metrics.epoch).toBe(1);
    expect(training.curve).toEqual([[1, 1.2, 0.3]]);
    // A curve the trainer wrote half of reads as none yet.
    fake.emit('jobUpdated', trainJob('t1', { metrics: { curve: '[[1,1.2' } }));
    expect(training.curve).toEqual([]);
    // A second train while it runs asks nothing.
    await training.train(5, 'scratch');
    fake.emit('jobUpdated', trainJob('t1', { state: 'succeeded', done: 2, result: REPORT }));
    await done;
    expect(training.busy).toBe(false);
    expect(training.report?.trained.model.name).toBe('demo-ft1');
    expect(training.curve).toEqual([
      [1, 1.2, 0.3],
      [2, 0.9, 0.4],
    ]);
    expect(fake.calls.filter((c) => c.name === 'startTraining').map((c) => c.input)).toEqual([
      { epochs: 2, start: 'active' },
    ]);

    expect(training.activated).toBe(false);
    await training.activate();
    expect(training.activated).toBe(true);
    expect(training.activateError).toBeNull();
    expect(fake.calls.find((c) => c.name === 'setActiveModel')?.input).toEqual({ id: 2 });
    off();
  });

  it('a refused start, a failed job and a refused activation surface as the core’s message', async () => {
    const { fake, training, off } = setup({
      startTraining: () => {
        throw new Error('Not enough labelled utterances to train (need 8 per split)');
      },
    });
    await training.train(3, 'scratch');
    expect(training.error).toMatch(/Not enough labelled utterances/);
    expect(training.report).toBeNull();
    // Nothing to activate without a report.
    await training.activate();
    expect(fake.count('setActiveModel')).toBe(0);

    fake.handle({ startTraining: () => ({ jobId: 't2' }) });
    let done = training.train(3, 'scratch');
    fake.emit('jobUpdated', trainJob('t2'));
    await vi.waitFor(() => expect(training.status?.id).toBe('t2'));
    expect(training.error).toBeNull();
    fake.emit('jobUpdated', trainJob('t2', { state: 'failed', error: 'The trainer exited with code 1' }));
    await done;
    expect(training.error).toBe('The trainer exited with code 1');

    fake.handle({
      startTraining: () => ({ jobId: 't3' }),
      setActiveModel: () => {
        throw new Error('No model 2');
      },
    });
    done = training.train(3, 'scratch');
    fake.emit('jobUpdated', trainJob('t3'));
    await vi.waitFor(() => expect(training.status?.id).toBe('t3'));
    fake.emit('jobUpdated', trainJob('t3', { state: 'succeeded', done: 2, result: REPORT }));
    await done;
    await training.activate();
    expect(training.activated).toBe(false);
    expect(training.activateError).toBe('No model 2');
    off();
  });

  it('a cancelled run says so and leaves no report', async () => {
    const { fake, training, off } = setup({ startTraining: () => ({ jobId: 't4' }) });
    const done = training.train(1, 'scratch');
    fake.emit('jobUpdated', trainJob('t4'));
    await vi.waitFor(() => expect(training.status?.id).toBe('t4'));
    await training.cancel();
    expect(fake.calls.find((c) => c.name === 'cancelJob')?.input).toEqual({ jobId: 't4' });
    fake.emit('jobUpdated', trainJob('t4', { state: 'cancelled' }));
    await done;
    expect(training.cancelled).toBe(true);
    expect(training.report).toBeNull();
    expect(training.error).toBeNull();
    off();
  });
});
