import fs from 'node:fs';
import path from 'node:path';
import { DEMO_CORPUS, expect, openStudio, test } from './fixtures';

test('a running import shows its progress in the dialog and the status bar, and can be cancelled', async ({
  page,
  host,
  tmp,
}) => {
  // Enough real files that the import is still running when the dialog closes, even on a fast
  // machine (hard links: 3,000 files cost no disk).
  const folder = path.join(tmp, 'many');
  fs.mkdirSync(folder);
  const source = path.join(DEMO_CORPUS, 'spk_a', 'spk_a_08.wav');
  for (let i = 0; i < 3000; i++) fs.linkSync(source, path.join(folder, `take_${String(i).padStart(4, '0')}.wav`));

  await openStudio(page, host);
  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();

  const progress = dialog.getByRole('progressbar', { name: `Import ${folder}` });
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute('aria-valuemax', '3000');
  await expect(dialog.getByRole('button', { name: 'Importing…' })).toBeDisabled();
  // The dialog can be closed: the job goes on, with its progress (and Cancel) in the status bar.
  await dialog.getByRole('button', { name: 'Close', exact: true }).first().click();
  const status = page.getByRole('contentinfo');
  await expect(status.getByRole('progressbar', { name: `Import ${folder}` })).toBeVisible();
  await expect(status).toContainText(/\d+\/3000 · \d+%/);
  await status.getByRole('button', { name: 'Cancel job' }).click();
  await expect(status.getByRole('progressbar')).toBeHidden();

  // What was imported before the cancel stays and is listed.
  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('take_');
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await expect(options.first()).toBeVisible();
  const imported = Number((await page.getByText(/of \d+ utterances/).textContent())!.split(' ')[0]);
  expect(imported).toBeGreaterThan(0);
  expect(imported).toBeLessThan(3000);
});
