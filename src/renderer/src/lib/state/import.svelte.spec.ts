import { describe, expect, it, vi } from 'vitest';
import type { ImportPreview, ImportReport, JobStatus, OperationInput } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { jobStatus, withJobs } from '../testing/jobs';
import { ImportState, type ImportForm } from './import.svelte';
import { JobsState } from './jobs.svelte';

const FORM: ImportForm = { path: ' /data/tg ', format: 'auto', fourClass: 'all', media: '' };
const PREVIEW: ImportPreview = {
  path: '/data/tg',
  format: 'textgrid',
  lines: ['2 TextGrid files, 6 utterances'],
  tiers: [
    { name: 'words', role: 'transcript' },
    { name: 'emotion', role: 'label' },
    { name: 'misc', role: null },
  ],
};
const REPORT: ImportReport = {
  source: '/data/tg',
  recordingsAdded: 2,
  recordingsReused: 0,
  utterancesAdded: 6,
  annotationsAdded: 6,
  labelsAdded: ['angry'],
  failures: [],
  cancelled: false,
  format: 'textgrid',
};

/** The import job `id` as the core reports it: running by default. */
const importJob = (id: string, change: Partial<JobStatus> = {}): JobStatus =>
  jobStatus({ id, kind: 'import', title: 'Import /data/tg', total: 2 }, change);

function setup(handlers: ConstructorParameters<typeof FakeClient>[0]) {
  const { fake, jobs, off } = withJobs(handlers);
  return { fake, importing: new ImportState(fake.client, jobs), off };
}

describe('ImportState', () => {
  it('previews, takes the offered tier roles, sends them only once one was changed, then imports', async () => {
    const { fake, importing, off } = setup({
      previewImport: () => PREVIEW,
      startImport: () => ({ jobId: 'i1' }),
    });
    await importing.showPreview(FORM);
    expect(fake.calls.at(-1)?.input).toMatchObject({ path: '/data/tg', format: undefined, tiers: undefined });
    expect(importing.preview?.format).toBe('textgrid');
    expect(importing.effectiveFormat('auto')).toBe('textgrid');
    expect(importing.roles).toEqual({ words: 'transcript', emotion: 'label', misc: '' });
    expect(importing.rolesEdited).toBe(false);

    importing.setRole('misc', 'speaker');
    importing.setRole('words', '');
    expect(importing.rolesEdited).toBe(true);
    // A preview again keeps the roles chosen and sends them (ignored tiers left out).
    await importing.showPreview(FORM);
    expect(fake.calls.at(-1)?.input).toMatchObject({ tiers: { emotion: 'label', misc: 'speaker' } });
    expect(importing.roles).toEqual({ words: '', emotion: 'label', misc: 'speaker' });

    const done = importing.start(FORM);
    fake.emit('jobUpdated', importJob('i1'));
    await vi.waitFor(() => expect(importing.status?.id).toBe('i1'));
    expect(importing.busy).toBe(true);
    // Neither a preview nor a second import while it runs.
    await importing.showPreview(FORM);
    await importing.start(FORM);
    fake.emit('jobUpdated', importJob('i1', { state: 'succeeded', done: 2, result: REPORT }));
    await done;
    expect(importing.report).toEqual(REPORT);
    expect(fake.count('previewImport')).toBe(2);
    expect(fake.calls.filter((c) => c.name === 'startImport').map((c) => c.input)).toEqual([
      { path: '/data/tg', tiers: { emotion: 'label', misc: 'speaker' } },
    ]);
    off();
  });

  it('sends a format’s options only for that format; a new path or format drops the preview and roles', async () => {
    const { importing, off } = setup({ previewImport: () => PREVIEW });
    const iemocap: ImportForm = { path: '/data/IEMOCAP', format: 'iemocap', fourClass: 'drop', media: ' /m ' };
    expect(importing.request(iemocap)).toEqual({
      path: '/data/IEMOCAP',
      format: 'iemocap',
      tiers: undefined,
      fourClass: 'drop',
      media: undefined,
    });
    expect(importing.request({ ...iemocap, format: 'meld' })).toMatchObject({ fourClass: undefined, media: '/m' });

    await importing.showPreview(FORM);
    importing.setRole('misc', 'note');
    importing.reset();
    expect(importing.preview).toBeNull();
    expect(importing.roles).toEqual({});
    expect(importing.rolesEdited).toBe(false);
    expect(importing.effectiveFormat('auto')).toBeNull();
    off();
  });

  it('a refused preview, a refused import and a failed job surface as the core’s messages', async () => {
    const { fake, importing, off } = setup({
      previewImport: ({ path }: OperationInput<'previewImport'>) => {
        throw new Error(`Not found: ${path}`);
      },
      startImport: () => {
        throw new Error('Not found: /data/tg');
      },
    });
    await importing.showPreview(FORM);
    expect(importing.previewError).toBe('Not found: /data/tg');
    expect(importing.preview).toBeNull();
    expect(importing.previewing).toBe(false);

    await importing.start(FORM);
    expect(importing.error).toBe('Not found: /data/tg');
    expect(importing.busy).toBe(false);

    fake.handle({ startImport: () => ({ jobId: 'i2' }) });
    const done = importing.start(FORM);
    fake.emit('jobUpdated', importJob('i2'));
    await vi.waitFor(() => expect(importing.status?.id).toBe('i2'));
    await importing.cancel();
    expect(fake.calls.find((c) => c.name === 'cancelJob')?.input).toEqual({ jobId: 'i2' });
    fake.emit('jobUpdated', importJob('i2', { state: 'cancelled' }));
    await done;
    expect(importing.cancelled).toBe(true);

    fake.handle({ startImport: () => ({ jobId: 'i3' }) });
    const failed = importing.start(FORM);
    fake.emit('jobUpdated', importJob('i3'));
    await vi.waitFor(() => expect(importing.status?.id).toBe('i3'));
    fake.emit('jobUpdated', importJob('i3', { state: 'failed', error: 'The disk is full' }));
    await failed;
    expect(importing.error).toBe('The disk is full');
    expect(importing.report).toBeNull();
    off();
  });

  it('an empty path asks nothing', async () => {
    const { fake, importing, off } = setup({});
    await importing.showPreview({ ...FORM, path: '  ' });
    await importing.start({ ...FORM, path: '' });
    expect(fake.calls.filter((c) => c.name !== 'listJobs')).toEqual([]);
    off();
  });
});

describe('ImportState chooser', () => {
  it('has no native folder chooser in web mode', () => {
    const fake = new FakeClient({});
    expect(new ImportState(fake.client, new JobsState(fake.client)).chooseFolder).toBeNull();
  });
});
