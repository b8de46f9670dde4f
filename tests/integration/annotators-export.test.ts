import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgreementService } from '../../src/main/agreement/agreement-service';
import type { Studio } from '../../src/main/api/studio';
import type { ExportRequest } from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** 3 utterances × 3 annotators: u0 agreed 2-1, u1 a three-way tie settled by an adjudicator, u2 one label. */
async function labelled() {
  const { studio } = openTempStudio();
  open.push(studio);
  const dir = tempDir();
  copyInto(dir, demoClips('spk_a', 3));
  await runImport(studio, dir);
  const ids = studio.store.rows().map((r) => r.id);
  const id = (name: string) => studio.store.labels.byName(name)!.id;
  const votes: Record<string, (string | null)[]> = {
    a: ['happy', 'happy', 'sad'],
    b: ['happy', 'angry', null],
    c: ['sad', 'sad', null],
  };
  for (const [who, labels] of Object.entries(votes)) {
    studio.store.annotator = who;
    labels.forEach((l, i) => l && studio.annotations.setLabel(ids[i]!, id(l)));
  }
  const agreement = new AgreementService(studio.store);
  agreement.saveAnnotator('judge', 'adjudicator');
  agreement.saveAnnotator('a', 'annotator');
  agreement.saveAnnotator('b', 'annotator');
  agreement.saveAnnotator('c', 'annotator');
  agreement.setSettings({ labelsPerUtterance: 2 });
  studio.store.annotator = 'judge';
  agreement.adjudicate(ids[1]!, id('angry'), 'shouting');
  const run = async (request: ExportRequest) => {
    const status = await studio.jobs.wait(
      studio.jobs.start('export', 'test export', (ctx) => studio.exporter.export(request, ctx)),
    );
    expect(status.error).toBeUndefined();
  };
  return { studio, ids, run };
}

// label_map order: neutral, happy, angry, sad
const EXPECTED = [
  { consensus_label: 'happy', votes: [0, 2, 0, 1], soft_label: [0, 0.666667, 0, 0.333333], num_annotators: 3, item_agreement: 0.333333, adjudicated: false },
  { consensus_label: 'angry', votes: [0, 1, 1, 1], soft_label: [0, 0.333333, 0.333333, 0.333333], num_annotators: 3, item_agreement: 0, adjudicated: true },
  { consensus_label: null, votes: [0, 0, 0, 1], soft_label: [0, 0, 0, 1], num_annotators: 1, item_agreement: null, adjudicated: false },
]; // prettier-ignore

describe('export with several annotators', () => {
  it('JSONL rows carry the consensus label, votes, soft label, annotator count, item agreement, adjudication', async () => {
    const { run } = await labelled();
    const folder = path.join(tempDir(), 'jsonl');
    await run({ folder, format: 'jsonl', split: { train: 1, validation: 0, test: 0 } });
    const rows = fs
      .readFileSync(path.join(folder, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .sort((x, y) => (x.utterance_id as number) - (y.utterance_id as number));
    expect(rows.map((r) => ({ ...EXPECTED[0], ...pick(r, Object.keys(EXPECTED[0]!)) }))).toEqual(EXPECTED);
    const provenance = JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8')) as {
      consensus: unknown;
    };
    expect(provenance.consensus).toEqual({
      rule: 'majority',
      labelsPerUtterance: 2,
      votesAndSoftLabelOrder: ['neutral', 'happy', 'angry', 'sad'],
      adjudicatorsVote: false,
    });
  });

  it('CSV and audiofolder metadata.csv carry the same, lists as JSON and flags as true/false', async () => {
    const { run } = await labelled();
    const csvFolder = path.join(tempDir(), 'csv');
    await run({ folder: csvFolder, format: 'csv', split: { train: 1, validation: 0, test: 0 } });
    const csv = (
      parse(fs.readFileSync(path.join(csvFolder, 'dataset.csv'), 'utf8'), { columns: true }) as Record<string, string>[]
    ).sort((x, y) => Number(x.utterance_id) - Number(y.utterance_id));
    const asCsv = (e: (typeof EXPECTED)[number]) => ({
      consensus_label: e.consensus_label ?? '',
      votes: JSON.stringify(e.votes),
      soft_label: JSON.stringify(e.soft_label),
      num_annotators: String(e.num_annotators),
      item_agreement: e.item_agreement === null ? '' : String(e.item_agreement),
      adjudicated: String(e.adjudicated),
    });
    expect(csv.map((r) => pick(r, Object.keys(EXPECTED[0]!)))).toEqual(EXPECTED.map(asCsv));
    const afFolder = path.join(tempDir(), 'af');
    await run({ folder: afFolder, split: { train: 1, validation: 0, test: 0 } });
    const meta = parse(fs.readFileSync(path.join(afFolder, 'train', 'metadata.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(meta.map((r) => pick(r, Object.keys(EXPECTED[0]!)))).toEqual(EXPECTED.map(asCsv));
  });
});

function pick(r: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}
