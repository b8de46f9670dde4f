/**
 * Export with one row per annotator (issue 11): every person's annotation of an exported utterance is a
 * row of its own (annotator, role, label, V/A/D, note, unsure, time) beside the utterance's consensus
 * columns; the audiofolder export imports back as the same annotations.
 */
import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { main } from '../../src/main/cli/main';
import type { ExportRequest } from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/**
 * 4 utterances: u0 a 2-1 agreement (b also rated and flagged it unsure), u1 a tie settled by the
 * adjudicator "judge" (who also labelled it), u2 one label, u3 only rated by c (no one's label: not exported).
 */
async function labelled() {
  const { studio, file } = openTempStudio();
  open.push(studio);
  const dir = tempDir();
  copyInto(dir, demoClips('spk_a', 4));
  await runImport(studio, dir);
  const ids = studio.store.rows().map((r) => r.id);
  const id = (name: string) => studio.store.labels.byName(name)!.id;
  studio.agreement.saveAnnotator('judge', 'adjudicator');
  for (const who of ['a', 'b', 'c']) studio.agreement.saveAnnotator(who, 'annotator');
  studio.agreement.setSettings({ labelsPerUtterance: 2 });
  const votes: Record<string, (string | null)[]> = {
    a: ['happy', 'happy', 'sad', null],
    b: ['happy', 'angry', null, null],
    c: ['sad', 'sad', null, null],
  };
  for (const [who, labels] of Object.entries(votes)) {
    studio.annotations.setAnnotator(who);
    labels.forEach((l, i) => l && studio.annotations.setLabel(ids[i]!, id(l)));
  }
  studio.annotations.setAnnotator('b');
  studio.annotations.setDimensions(ids[0]!, { valence: 4, arousal: 2, dominance: 3, note: 'laughs, "then" sighs' });
  studio.annotations.setUnsure(ids[0]!, true);
  studio.annotations.setAnnotator('c');
  studio.annotations.setDimensions(ids[3]!, { valence: 2, arousal: null, dominance: null, note: '' });
  studio.annotations.setAnnotator('judge');
  studio.annotations.setLabel(ids[1]!, id('angry'));
  studio.agreement.adjudicate(ids[1]!, id('angry'), 'shouting');
  const run = async (request: ExportRequest) => {
    const status = await studio.jobs.wait(
      studio.jobs.start('export', 'test export', (ctx) => studio.exporter.export(request, ctx)),
    );
    expect(status.error).toBeUndefined();
    return status;
  };
  return { studio, file, ids, run };
}

/** Every person's annotation that holds something, as `annotator utterance-text=label v/a/d note unsure at`. */
function annotations(s: Studio, exportedOnly: Set<number> | null = null): string[] {
  return s.store.db
    .prepare<
      [],
      {
        utteranceId: number;
        annotator: string;
        label: string | null;
        valence: number | null;
        arousal: number | null;
        dominance: number | null;
        note: string;
        unsure: number;
        at: string;
        file: string;
      }
    >(
      `SELECT a.utterance_id AS utteranceId, a.annotator, l.name AS label, a.valence, a.arousal, a.dominance,
              a.note, a.unsure, a.updated_at AS at, r.file_name AS file
       FROM annotations a LEFT JOIN labels l ON l.id = a.label_id
       JOIN utterances u ON u.id = a.utterance_id JOIN recordings r ON r.id = u.recording_id
       WHERE a.origin = 'human' AND (a.label_id IS NOT NULL OR a.valence IS NOT NULL OR a.note <> '' OR a.unsure <> 0)`,
    )
    .all()
    .filter((a) => !exportedOnly || exportedOnly.has(a.utteranceId))
    .map(
      (a) =>
        `${a.annotator} ${a.file.replace(/^\d{6}_/, '').replace(/\.wav$/, '')}=${a.label ?? ''} ` +
        `${a.valence ?? '-'}/${a.arousal ?? '-'}/${a.dominance ?? '-'} ${JSON.stringify(a.note)} ${a.unsure === 1} ${a.at}`,
    )
    .sort();
}

describe('export with one row per annotator', () => {
  it('JSONL: a row per person and exported utterance, with role, their values and the consensus columns', async () => {
    const { run, ids } = await labelled();
    const folder = path.join(tempDir(), 'jsonl');
    const status = await run({
      folder,
      format: 'jsonl',
      rowPerAnnotator: true,
      split: { train: 1, validation: 0, test: 0 },
    });
    const rows = fs
      .readFileSync(path.join(folder, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const brief = rows
      .map((r) => [r.utterance_id, r.annotator, r.role, r.label, r.consensus_label, r.num_annotators, r.adjudicated])
      .sort((x, y) => (x[0] as number) - (y[0] as number) || String(x[1]).localeCompare(String(y[1])));
    expect(brief).toEqual([
      [ids[0], 'a', 'annotator', 'happy', 'happy', 3, false],
      [ids[0], 'b', 'annotator', 'happy', 'happy', 3, false],
      [ids[0], 'c', 'annotator', 'sad', 'happy', 3, false],
      [ids[1], 'a', 'annotator', 'happy', 'angry', 3, true],
      [ids[1], 'b', 'annotator', 'angry', 'angry', 3, true],
      [ids[1], 'c', 'annotator', 'sad', 'angry', 3, true],
      [ids[1], 'judge', 'adjudicator', 'angry', 'angry', 3, true],
      [ids[2], 'a', 'annotator', 'sad', null, 1, false],
    ]);
    const b0 = rows.find((r) => r.utterance_id === ids[0] && r.annotator === 'b')!;
    expect(b0).toMatchObject({ valence: 4, arousal: 2, dominance: 3, note: 'laughs, "then" sighs', unsure: true });
    expect(b0.votes).toEqual([0, 2, 0, 1]);
    expect(typeof b0.annotated_at).toBe('string');
    // Every row of an utterance is in the same split.
    expect(new Set(rows.filter((r) => r.utterance_id === ids[1]).map((r) => r.split)).size).toBe(1);
    expect(status.result).toMatchObject({ rows: 8 });
    const provenance = JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8')) as {
      rows: string;
      counts: { rows: number; utterances: number };
    };
    expect(provenance.rows).toBe('one per annotator');
    expect(provenance.counts).toMatchObject({ rows: 8, utterances: 3 });
  });

  it('CSV: the role column follows annotator; the default export is unchanged (one row per utterance)', async () => {
    const { run } = await labelled();
    const per = path.join(tempDir(), 'per');
    await run({ folder: per, format: 'csv', rowPerAnnotator: true, split: { train: 1, validation: 0, test: 0 } });
    const text = fs.readFileSync(path.join(per, 'dataset.csv'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^path,start,end,label,text,speaker,annotator,role,split,utterance_id,/);
    expect((parse(text, { columns: true }) as unknown[]).length).toBe(8);
    const one = path.join(tempDir(), 'one');
    await run({ folder: one, format: 'csv', split: { train: 1, validation: 0, test: 0 } });
    const oneText = fs.readFileSync(path.join(one, 'dataset.csv'), 'utf8');
    expect(oneText.split('\n')[0]).not.toContain('role');
    expect((parse(oneText, { columns: true }) as unknown[]).length).toBe(3);
  });

  it('audiofolder: one clip per utterance, a metadata row per annotator; imports back as the same annotations', async () => {
    const { studio, run, ids } = await labelled();
    const folder = path.join(tempDir(), 'af');
    await run({ folder, rowPerAnnotator: true, split: { train: 1, validation: 0, test: 0 } });
    const meta = parse(fs.readFileSync(path.join(folder, 'train', 'metadata.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(meta.length).toBe(8);
    expect(new Set(meta.map((r) => r.file_name)).size).toBe(3);
    expect(fs.readdirSync(path.join(folder, 'train')).filter((f) => f.endsWith('.wav')).length).toBe(3);
    expect(meta.find((r) => r.annotator === 'judge')!.role).toBe('adjudicator');

    const { studio: back } = openTempStudio();
    open.push(back);
    const status = await runImport(back, folder);
    expect(status.error).toBeUndefined();
    // The same annotations of the exported utterances (u3 had no one's label, so it is not exported).
    expect(annotations(back)).toEqual(annotations(studio, new Set(ids.slice(0, 3))));
    expect(annotations(back).length).toBe(8);
  });

  it('TextGrid, EAF and Label Studio already hold each annotator apart: the option writes the same files', async () => {
    const { run } = await labelled();
    for (const format of ['textgrid', 'eaf', 'label-studio'] as const) {
      const plain = path.join(tempDir(), format);
      const per = path.join(tempDir(), `${format}-per`);
      await run({ folder: plain, format });
      const status = await run({ folder: per, format, rowPerAnnotator: true });
      const files = (dir: string) =>
        fs
          .readdirSync(dir)
          .filter((f) => f !== 'provenance.json')
          .sort()
          .map((f) => [f, fs.statSync(path.join(dir, f)).isFile() ? fs.readFileSync(path.join(dir, f), 'utf8') : ''])
          .map(([f, t]) => [
            f,
            t!
              .split(dir)
              .join('DIR')
              .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T'),
          ]);
      expect(files(per)).toEqual(files(plain));
      expect(status.result).toMatchObject({ warnings: [] });
    }
  });

  it("with imported labels: a file's label where no one labelled is a row without annotator, role imported", async () => {
    const { studio } = openTempStudio();
    open.push(studio);
    const dir = tempDir();
    const [x, y] = copyInto(dir, demoClips('spk_a', 2));
    fs.writeFileSync(path.join(dir, 'manifest.csv'), `path,label\n${x},sad\n${y},angry\n`);
    expect((await runImport(studio, path.join(dir, 'manifest.csv'))).error).toBeUndefined();
    const [u0, u1] = studio.store.rows().map((r) => r.id);
    studio.annotations.setAnnotator('a');
    studio.annotations.setLabel(u0!, studio.store.labels.byName('happy')!.id);
    studio.annotations.setDimensions(u1!, { valence: 5, arousal: null, dominance: null, note: '' });
    const folder = path.join(tempDir(), 'imp');
    const status = await studio.jobs.wait(
      studio.jobs.start('export', 'test export', (ctx) =>
        studio.exporter.export(
          {
            folder,
            format: 'jsonl',
            includeImported: true,
            rowPerAnnotator: true,
            split: { train: 1, validation: 0, test: 0 },
          },
          ctx,
        ),
      ),
    );
    expect(status.error).toBeUndefined();
    const rows = fs
      .readFileSync(path.join(folder, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((r) => [r.utterance_id, r.annotator, r.role, r.label, r.valence]);
    expect(rows).toEqual([
      [u0, 'a', 'annotator', 'happy', null],
      [u1, 'a', 'annotator', null, 5],
      [u1, '', 'imported', 'angry', null],
    ]);
  });

  it('CLI: --row-per-annotator', async () => {
    const { studio, file } = await labelled();
    await studio.close();
    open.splice(open.indexOf(studio), 1);
    const out = path.join(tempDir(), 'cli');
    const stdout: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (stdout.push(chunk), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['export', '--project', file, '--out', out, '--format', 'jsonl', '--row-per-annotator']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(JSON.parse(stdout.join('')) as unknown).toMatchObject({ rows: 8 });
    expect(fs.readFileSync(path.join(out, 'dataset.jsonl'), 'utf8').trim().split('\n').length).toBe(8);
  });
});
