import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import type { ExportRequest, ExportSummary, JobStatus } from '../../src/shared/contract';
import { demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/** Everything an annotator enters (label, V/A/D, note), who entered it and when, in every export format. */
let studio: Studio;
let rated: number;
let labelledOnly: number;

async function runExport(request: ExportRequest): Promise<JobStatus> {
  const id = studio.jobs.start('export', 'test export', (ctx) => studio.exporter.export(request, ctx));
  const status = await studio.jobs.wait(id);
  expect(status.error).toBeUndefined();
  return status;
}

const NOTE = 'Sarcastic, "not" sad;\nsecond line';

beforeEach(async () => {
  ({ studio } = openTempStudio());
  const folder = path.join(tempDir(), 'corpus');
  fs.mkdirSync(path.join(folder, 'spk_a'), { recursive: true });
  for (const clip of demoClips('spk_a', 2)) fs.copyFileSync(clip, path.join(folder, 'spk_a', path.basename(clip)));
  await runImport(studio, folder);
  const [first, second] = studio.store.rows();
  rated = first!.id;
  labelledOnly = second!.id;
  studio.store.annotator = 'maria';
  const sad = studio.store.labels.byName('sad')!.id;
  studio.annotations.setLabel(rated, sad);
  studio.annotations.setDimensions(rated, { valence: 2, arousal: 4, dominance: 1.5, note: NOTE });
  studio.annotations.setUnsure(rated, true);
  studio.annotations.setLabel(labelledOnly, studio.store.labels.byName('happy')!.id);
});
afterEach(async () => {
  await studio.close();
});

describe('export carries what the annotator entered', () => {
  it('audiofolder metadata.csv has valence, arousal, dominance, note, annotator and time', async () => {
    const folder = path.join(tempDir(), 'af');
    await runExport({ folder, split: { train: 1, validation: 0, test: 0 } });
    const rows = parse(fs.readFileSync(path.join(folder, 'train', 'metadata.csv')), { columns: true }) as Record<
      string,
      string
    >[];
    expect(Object.keys(rows[0]!)).toEqual([
      'file_name',
      'label',
      'text',
      'speaker',
      'start',
      'end',
      'annotator',
      'valence',
      'arousal',
      'dominance',
      'note',
      'unsure',
      'annotated_at',
      'consensus_label',
      'votes',
      'soft_label',
      'num_annotators',
      'item_agreement',
      'adjudicated',
    ]);
    const byId = new Map(rows.map((r) => [Number(r.file_name!.slice(0, 6)), r]));
    expect(byId.get(rated)).toMatchObject({
      label: 'sad',
      annotator: 'maria',
      valence: '2',
      arousal: '4',
      dominance: '1.5',
      note: NOTE,
      unsure: 'true',
    });
    expect(byId.get(labelledOnly)).toMatchObject({
      label: 'happy',
      valence: '',
      arousal: '',
      dominance: '',
      note: '',
      unsure: 'false',
    });
    for (const r of rows) {
      expect(Date.parse(r.annotated_at!)).not.toBeNaN();
      expect(Math.abs(Date.now() - Date.parse(r.annotated_at!))).toBeLessThan(60_000);
    }
  });

  it('CSV and JSONL carry the same columns', async () => {
    const csvDir = path.join(tempDir(), 'csv');
    await runExport({ folder: csvDir, format: 'csv' });
    const csv = parse(fs.readFileSync(path.join(csvDir, 'dataset.csv')), { columns: true }) as Record<string, string>[];
    const csvRow = csv.find((r) => Number(r.utterance_id) === rated)!;
    expect(csvRow).toMatchObject({
      annotator: 'maria',
      valence: '2',
      arousal: '4',
      dominance: '1.5',
      note: NOTE,
      unsure: 'true',
    });
    expect(Date.parse(csvRow.annotated_at!)).not.toBeNaN();

    const jsonlDir = path.join(tempDir(), 'jsonl');
    await runExport({ folder: jsonlDir, format: 'jsonl' });
    const jsonl = fs
      .readFileSync(path.join(jsonlDir, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rated_ = jsonl.find((r) => r.utterance_id === rated)!;
    expect(rated_).toMatchObject({
      annotator: 'maria',
      valence: 2,
      arousal: 4,
      dominance: 1.5,
      note: NOTE,
      unsure: true,
    });
    expect(rated_.annotated_at).toBe(csvRow.annotated_at);
    expect(jsonl.find((r) => r.utterance_id === labelledOnly)).toMatchObject({
      valence: null,
      arousal: null,
      dominance: null,
      note: '',
      unsure: false,
    });
  });

  it('reports an empty split and a class missing from a split as warnings', async () => {
    // One speaker, three splits asked for: validation and test come out empty.
    const summary = (await runExport({ folder: path.join(tempDir(), 'w'), format: 'csv' })).result as ExportSummary;
    expect(summary.warnings).toEqual(
      expect.arrayContaining(['the validation split is empty', 'the test split is empty']),
    );
  });
});
