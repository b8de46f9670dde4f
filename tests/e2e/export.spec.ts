import fs from 'node:fs';
import path from 'node:path';
import { expect, openStudio, parseCsv, snap, test } from './fixtures';

test('the export carries ratings and the note; split ratios are settable; an empty split is a warning', async ({
  page,
  host,
  tmp,
}) => {
  await openStudio(page, host);
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await options.first().click();
  await page.getByRole('checkbox', { name: 'Auto-advance' }).uncheck();
  await options.first().click();
  await page.keyboard.press('4'); // sad
  await page.keyboard.press('Shift+Digit2');
  await page.keyboard.press('Alt+Digit5');
  await page.getByRole('textbox', { name: 'Note' }).fill('Sighs, then "fine", then a long pause.');
  await expect(page.getByTestId('utterance-save-state')).toHaveText('Saved');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');

  // Default ratios with one speaker labelled: validation and test come out empty, and the dialog says so.
  const out = path.join(tmp, 'export');
  await page.getByRole('button', { name: 'Export…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export dataset' });
  await dialog.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await dialog.getByRole('combobox', { name: 'Format' }).selectOption('csv');
  await expect(dialog.getByTestId('split-note')).toContainText('80% train, 10% validation, 10% test');
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  const warnings = dialog.getByRole('list', { name: 'Export warnings' });
  await expect(warnings).toContainText('the validation split is empty');
  await expect(warnings).toContainText('the test split is empty');
  await snap(page, 'export-warnings');
  const [row] = parseCsv(fs.readFileSync(path.join(out, 'dataset.csv'), 'utf8'));
  expect(row).toMatchObject({
    label: 'sad',
    annotator: 'annotator',
    valence: '2',
    arousal: '5',
    dominance: '',
    note: 'Sighs, then "fine", then a long pause.',
  });
  expect(Date.parse(row!.annotated_at!)).not.toBeNaN();
  await dialog.getByRole('button', { name: 'Done' }).click();

  // Everything in train: no split warning; the ratios reach the core (provenance).
  const all = path.join(tmp, 'export-train');
  await page.getByRole('button', { name: 'Export…' }).click();
  await dialog.getByRole('textbox', { name: 'Export folder' }).fill(all);
  await dialog.getByRole('combobox', { name: 'Format' }).selectOption('jsonl');
  await dialog.getByRole('spinbutton', { name: 'validation share' }).fill('0');
  await dialog.getByRole('spinbutton', { name: 'test share' }).fill('0');
  await expect(dialog.getByTestId('split-note')).toContainText('100% train, 0% validation, 0% test');
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(dialog.getByRole('region', { name: 'Export summary' })).toContainText('1 labelled utterance(s)');
  await expect(dialog.getByRole('list', { name: 'Export warnings' })).toHaveCount(0);
  const provenance = JSON.parse(fs.readFileSync(path.join(all, 'provenance.json'), 'utf8'));
  expect(provenance.split.ratios).toEqual({ train: 80, validation: 0, test: 0 });
  const line = JSON.parse(fs.readFileSync(path.join(all, 'dataset.jsonl'), 'utf8').trim());
  expect(line).toMatchObject({ valence: 2, arousal: 5, dominance: null, split: 'train' });
});
