import type { Locator, Page } from '@playwright/test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fs from 'node:fs';
import path from 'node:path';
import { ExportFormat } from '../../src/shared/contract';
import { DEMO_CORPUS, expect, openStudio, snap, test, wavDuration, expectAccessible } from './fixtures';

type Interval = { xmin: number; xmax: number; text: string };

/** A reader for Praat's long text format written here, independent of the studio's importer. */
function readTextGrid(text: string): Map<string, Interval[]> {
  const tiers = new Map<string, Interval[]>();
  let current: Interval[] | null = null;
  let pending: Partial<Interval> | null = null;
  const unquote = (s: string) => s.slice(1, -1).replace(/""/g, '"');
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^name = (".*")$/.exec(line))) tiers.set(unquote(m[1]!), (current = []));
    else if (/^intervals \[\d+\]:$/.test(line)) pending = {};
    else if (pending && (m = /^(xmin|xmax) = (\S+)$/.exec(line))) pending[m[1] as 'xmin' | 'xmax'] = Number(m[2]);
    else if (pending && current && (m = /^text = (".*")$/.exec(line))) {
      current.push({ xmin: pending.xmin!, xmax: pending.xmax!, text: unquote(m[1]!) });
      pending = null;
    }
  }
  return tiers;
}

/** The demo corpus's recordings: file name → its transcript (the same-name .txt). */
function demoRecordings(): Map<string, string> {
  const out = new Map<string, string>();
  for (const speaker of fs.readdirSync(DEMO_CORPUS))
    for (const f of fs.readdirSync(path.join(DEMO_CORPUS, speaker)).filter((f) => f.endsWith('.wav')))
      out.set(f, fs.readFileSync(path.join(DEMO_CORPUS, speaker, f.replace(/\.wav$/, '.txt')), 'utf8').trim());
  return out;
}

async function exportAs(page: Page, folder: string, format: string, writes: string): Promise<Locator> {
  await page.getByRole('button', { name: 'Export…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export dataset' });
  await dialog.getByRole('textbox', { name: 'Export folder' }).fill(folder);
  const select = dialog.getByRole('combobox', { name: 'Format' });
  await select.selectOption(format);
  // One line says what the format writes (the select's description); the split options are gone.
  await expect(dialog.getByTestId('format-note')).toContainText(writes);
  await expect(select).toHaveAccessibleDescription(new RegExp(writes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await expect(dialog.getByRole('group', { name: 'Split ratios' })).toHaveCount(0);
  await expect(dialog.getByRole('spinbutton', { name: 'Split seed' })).toHaveCount(0);
  await expect(dialog.getByRole('checkbox', { name: /Keep the split/ })).toHaveCount(0);
  await expect(dialog.getByRole('checkbox', { name: /prediction and scores as columns/ })).toHaveCount(0);
  await expect(dialog.getByRole('checkbox', { name: /Include imported labels/ })).toBeVisible();
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  const summary = dialog.getByRole('region', { name: 'Export summary' });
  await expect(summary).toContainText(`${demoRecordings().size} utterance(s) exported`);
  await expect(summary.getByRole('table', { name: 'Rows per split' })).toHaveCount(0);
  return dialog;
}

test('the Export dialog writes TextGrid, EAF and Label Studio: the utterances and the labels just set', async ({
  page,
  host,
  tmp,
}) => {
  const recordings = demoRecordings();
  await openStudio(page, host);
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await options.first().click();
  await page.getByRole('checkbox', { name: 'Auto-advance' }).uncheck();
  await options.first().click();
  await page.keyboard.press('4'); // sad
  await expect(options.first()).toHaveAttribute('data-label', 'sad');
  await options.nth(1).click();
  await page.keyboard.press('2'); // happy
  await expect(options.nth(1)).toHaveAttribute('data-label', 'happy');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  const sadId = Number(await options.first().getAttribute('data-utterance-id'));
  const happyId = Number(await options.nth(1).getAttribute('data-utterance-id'));

  // The dialog offers every format of the contract's enum, in its order.
  await page.getByRole('button', { name: 'Export…' }).click();
  const values = await page
    .getByRole('dialog', { name: 'Export dataset' })
    .getByRole('combobox', { name: 'Format' })
    .locator('option')
    .evaluateAll((els) => els.map((e) => e.getAttribute('value')));
  expect(values).toEqual(ExportFormat.options);
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Export dataset' })).toHaveCount(0);

  // Praat TextGrid: one per recording with its audio beside it; the transcript tier holds the utterance.
  const tgDir = path.join(tmp, 'textgrid');
  let dialog = await exportAs(page, tgDir, 'textgrid', 'One TextGrid per recording');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await snap(page, `export-textgrid-${scheme}`);
    await expectAccessible(page, `Export dialog, TextGrid written (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  const grids = fs.readdirSync(tgDir).filter((f) => f.endsWith('.TextGrid'));
  expect(grids).toHaveLength(recordings.size);
  const labelled = new Map<string, string>();
  for (const grid of grids) {
    const wav = grid.replace(/\.TextGrid$/, '.wav');
    expect(fs.existsSync(path.join(tgDir, wav)), wav).toBe(true);
    const tiers = readTextGrid(fs.readFileSync(path.join(tgDir, grid), 'utf8'));
    const transcript = tiers.get('transcript')!;
    expect(transcript, grid).toHaveLength(1);
    expect(transcript[0]!.text).toBe(recordings.get(wav));
    expect(transcript[0]!.xmin).toBeCloseTo(0, 3);
    expect(transcript[0]!.xmax).toBeCloseTo(wavDuration(path.join(tgDir, wav)), 3);
    const emotion = tiers.get('emotion:annotator');
    if (!emotion) continue;
    expect(emotion).toHaveLength(1);
    expect(emotion[0]).toMatchObject({ xmin: transcript[0]!.xmin, xmax: transcript[0]!.xmax });
    labelled.set(wav, emotion[0]!.text);
  }
  expect([...labelled.values()].sort()).toEqual(['happy', 'sad']);
  await dialog.getByRole('button', { name: 'Done' }).click();

  // ELAN EAF: well-formed XML, the emotion tier of the annotator with the same labels on the same files.
  const eafDir = path.join(tmp, 'eaf');
  dialog = await exportAs(page, eafDir, 'eaf', 'One .eaf per recording');
  await snap(page, 'export-eaf-light');
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => ['TIER', 'ANNOTATION', 'TIME_SLOT'].includes(name),
  });
  const eafs = fs.readdirSync(eafDir).filter((f) => f.endsWith('.eaf'));
  expect(eafs).toHaveLength(recordings.size);
  const eafLabels = new Map<string, string>();
  type Ann = { ALIGNABLE_ANNOTATION: { TIME_SLOT_REF1: string; TIME_SLOT_REF2: string; ANNOTATION_VALUE: unknown } };
  for (const file of eafs) {
    const xml = fs.readFileSync(path.join(eafDir, file), 'utf8');
    expect(XMLValidator.validate(xml), file).toBe(true);
    const doc = parser.parse(xml).ANNOTATION_DOCUMENT;
    const tiers = doc.TIER as { TIER_ID: string; ANNOTATOR?: string; ANNOTATION?: Ann[] }[];
    const slots = new Map(
      (doc.TIME_ORDER.TIME_SLOT as { TIME_SLOT_ID: string; TIME_VALUE: string }[]).map((s) => [
        s.TIME_SLOT_ID,
        Number(s.TIME_VALUE),
      ]),
    );
    const span = (a: Ann) => [
      slots.get(a.ALIGNABLE_ANNOTATION.TIME_SLOT_REF1),
      slots.get(a.ALIGNABLE_ANNOTATION.TIME_SLOT_REF2),
    ];
    const transcript = tiers.find((t) => t.TIER_ID === 'transcript')!.ANNOTATION!;
    expect(transcript).toHaveLength(1);
    expect(String(transcript[0]!.ALIGNABLE_ANNOTATION.ANNOTATION_VALUE)).toBe(
      recordings.get(file.replace(/\.eaf$/, '.wav')),
    );
    const emotion = tiers.find((t) => t.TIER_ID === 'emotion (annotator)');
    if (!emotion) continue;
    expect(emotion.ANNOTATOR).toBe('annotator');
    expect(emotion.ANNOTATION).toHaveLength(1);
    expect(span(emotion.ANNOTATION![0]!)).toEqual(span(transcript[0]!));
    eafLabels.set(
      file.replace(/\.eaf$/, '.wav'),
      String(emotion.ANNOTATION![0]!.ALIGNABLE_ANNOTATION.ANNOTATION_VALUE),
    );
  }
  expect(eafLabels).toEqual(labelled);
  await dialog.getByRole('button', { name: 'Done' }).click();

  // Label Studio: tasks.json carries the annotator's annotation with each label on its utterance.
  const lsDir = path.join(tmp, 'label-studio');
  await exportAs(page, lsDir, 'label-studio', 'tasks.json');
  await snap(page, 'export-label-studio-light');
  const tasks = JSON.parse(fs.readFileSync(path.join(lsDir, 'tasks.json'), 'utf8')) as {
    data: { audio: string };
    annotations: {
      created_username: string;
      result: { id: string; from_name: string; value: { labels?: string[] } }[];
    }[];
  }[];
  expect(tasks).toHaveLength(recordings.size);
  expect(fs.readFileSync(path.join(lsDir, 'label-config.xml'), 'utf8')).toContain('<Label value="sad"/>');
  const lsLabels = new Map<string, string>();
  for (const task of tasks)
    for (const a of task.annotations.filter((x) => x.created_username.startsWith('annotator,')))
      for (const r of a.result.filter((x) => x.from_name === 'emotion')) {
        lsLabels.set(path.basename(task.data.audio), r.value.labels![0]!);
        expect(r.id).toBe(`u${r.value.labels![0] === 'sad' ? sadId : happyId}`);
      }
  expect(lsLabels).toEqual(labelled);
});
