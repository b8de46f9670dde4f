import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_CORPUS, expect, openStudio, test } from './fixtures';

test('a bad-input import reports every bad file by name and reason, and imports the good ones', async ({
  page,
  host,
  tmp,
}) => {
  const folder = path.join(tmp, 'mixed');
  fs.mkdirSync(folder);
  const real = path.join(DEMO_CORPUS, 'spk_b', 'spk_b_01.wav');
  fs.writeFileSync(path.join(folder, 'empty.wav'), '');
  fs.writeFileSync(path.join(folder, 'truncated.wav'), fs.readFileSync(real).subarray(0, 3000)); // head -c 3000
  fs.writeFileSync(path.join(folder, 'noise.wav'), crypto.randomBytes(8192));
  fs.writeFileSync(path.join(folder, 'notes.mp3'), 'These are meeting notes, not audio.\n');
  fs.copyFileSync(real, path.join(folder, 'good_one.wav'));
  fs.copyFileSync(path.join(DEMO_CORPUS, 'spk_b', 'spk_b_02.wav'), path.join(folder, 'good_two.wav'));
  fs.writeFileSync(path.join(folder, 'good_two.txt'), 'The second good file has a transcript.');

  await openStudio(page, host);
  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).press('Enter');

  const report = dialog.getByRole('region', { name: 'Import report' });
  await expect(report.getByTestId('count-recordings-added')).toHaveText('2');
  await expect(report.getByTestId('count-utterances-added')).toHaveText('2');
  await expect(report.getByTestId('count-failed')).toHaveText('4');

  const failures = report.getByRole('table', { name: 'Import failures' });
  await expect(failures.getByRole('row')).toHaveCount(5); // header + 4
  const expected: Record<string, RegExp> = {
    'empty.wav': /empty/i,
    'truncated.wav': /truncated/i,
    'noise.wav': /not an audio file/i,
    'notes.mp3': /not an audio file/i,
  };
  for (const [file, reason] of Object.entries(expected)) {
    const row = failures.getByRole('row').filter({ hasText: file });
    await expect(row, `a failure row for ${file}`).toHaveCount(1);
    await expect(row.getByRole('cell').nth(0)).toContainText(path.join(folder, file));
    await expect(row.getByRole('cell').nth(1)).toHaveText(reason);
  }
  await expect(failures).not.toContainText('good_');

  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('labelled-count')).toHaveText('labelled 0 / total 38');
  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('good_');
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await expect(options).toHaveCount(2);
  await expect(options.nth(0)).toContainText('good_one.wav');
  await expect(options.nth(1)).toContainText('good_two.wav');
  await expect(options.nth(1)).toContainText('The second good file has a transcript.');

  // The good files are real, playable audio: the waveform loads for the selected one.
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
});
