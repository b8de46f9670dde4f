import { describe, expect, it, vi } from 'vitest';
import type { ExportSummary, JobStatus } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { jobStatus, withJobs } from '../testing/jobs';
import { ExportState } from './export.svelte';
import { JobsState } from './jobs.svelte';

const SUMMARY: ExportSummary = {
  folder: '/data/out',
  format: 'csv',
  rows: 12,
  bySplit: { train: 10, validation: 1, test: 1 },
  warnings: [],
  files: ['/data/out/dataset.csv'],
};

/** The export job `id` as the core reports it: running by default. */
const exportJob = (id: string, change: Partial<JobStatus> = {}): JobStatus =>
  jobStatus({ id, kind: 'export', title: 'Export /data/out', total: 12 }, change);

function setup(handlers: ConstructorParameters<typeof FakeClient>[0]) {
  const { fake, jobs, off } = withJobs(handlers);
  return { fake, exporting: new ExportState(fake.client, jobs), off };
}

/** The core reports job `id` running; waits until `exporting` follows it. */
async function following(fake: FakeClient, exporting: ExportState, id: string): Promise<void> {
  fake.emit('jobUpdated', exportJob(id));
  await vi.waitFor(() => expect(exporting.status?.id).toBe(id));
}

describe('ExportState', () => {
  it('exports the request with the folder trimmed and follows the job to its summary', async () => {
    const { fake, exporting, off } = setup({ startExport: () => ({ jobId: 'e1' }) });
    const done = exporting.start({ folder: ' /data/out ', format: 'csv', rowPerAnnotator: true, seed: 7 });
    await following(fake, exporting, 'e1');
    expect(exporting.busy).toBe(true);
    expect(exporting.perAnnotator).toBe(true);
    // A second export while it runs asks nothing.
    await exporting.start({ folder: '/data/other', format: 'eaf' });
    fake.emit('jobUpdated', exportJob('e1', { state: 'succeeded', done: 12, result: SUMMARY }));
    await done;
    expect(exporting.summary).toEqual(SUMMARY);
    expect(fake.calls.filter((c) => c.name === 'startExport').map((c) => c.input)).toEqual([
      { folder: '/data/out', format: 'csv', rowPerAnnotator: true, seed: 7 },
    ]);
    off();
  });

  it('an empty folder asks nothing; a request without rowPerAnnotator shows rows as utterances', async () => {
    const { fake, exporting, off } = setup({ startExport: () => ({ jobId: 'e2' }) });
    await exporting.start({ folder: '  ', format: 'csv' });
    expect(fake.count('startExport')).toBe(0);
    const done = exporting.start({ folder: '/data/tg', format: 'textgrid', includeImported: true });
    await following(fake, exporting, 'e2');
    expect(exporting.perAnnotator).toBe(false);
    fake.emit('jobUpdated', exportJob('e2', { state: 'succeeded', result: { ...SUMMARY, format: 'textgrid' } }));
    await done;
    expect(exporting.summary?.format).toBe('textgrid');
    off();
  });

  it('a refused export, a cancelled one and a failed job surface as such', async () => {
    const { fake, exporting, off } = setup({
      startExport: () => {
        throw new Error('The folder holds a previous export: tick Overwrite to replace it');
      },
    });
    await exporting.start({ folder: '/data/out', format: 'csv' });
    expect(exporting.error).toMatch(/previous export/);
    expect(exporting.busy).toBe(false);

    fake.handle({ startExport: () => ({ jobId: 'e3' }) });
    const cancelled = exporting.start({ folder: '/data/out', format: 'csv', overwrite: true });
    await following(fake, exporting, 'e3');
    expect(exporting.error).toBeNull();
    await exporting.cancel();
    expect(fake.calls.find((c) => c.name === 'cancelJob')?.input).toEqual({ jobId: 'e3' });
    fake.emit('jobUpdated', exportJob('e3', { state: 'cancelled' }));
    await cancelled;
    expect(exporting.cancelled).toBe(true);
    expect(exporting.summary).toBeNull();

    fake.handle({ startExport: () => ({ jobId: 'e4' }) });
    const failed = exporting.start({ folder: '/data/out', format: 'csv', overwrite: true });
    await following(fake, exporting, 'e4');
    fake.emit('jobUpdated', exportJob('e4', { state: 'failed', error: 'No labelled utterances to export' }));
    await failed;
    expect(exporting.error).toBe('No labelled utterances to export');
    expect(exporting.cancelled).toBe(false);
    off();
  });
});

describe('ExportState chooser', () => {
  it('has no native folder chooser in web mode', () => {
    const fake = new FakeClient({});
    expect(new ExportState(fake.client, new JobsState(fake.client)).chooseFolder).toBeNull();
  });
});
