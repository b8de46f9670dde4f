import fs from 'node:fs';
import path from 'node:path';
import { expect, openStudio, snap, test } from './fixtures';

test('a label change the core refuses reverts the row and shows the core message', async ({ page, host }) => {
  // This tab misses the labelsChanged events (as after a network blip), so its label set goes stale.
  await page.routeWebSocket(/\/events/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (!String(message).includes('"labelsChanged"')) ws.send(message);
    });
  });
  await openStudio(page, host);
  // A second tab (another annotator's window) of the same project.
  const other = await page.context().newPage();
  await openStudio(other, host);

  // This tab adds a label on key 5; the other tab deletes it (it is unused, so the core allows it).
  await page.getByRole('button', { name: 'Labels…' }).click();
  const labels = page.getByRole('dialog', { name: 'Labels' });
  await labels.getByRole('textbox', { name: 'New label name' }).fill('bored');
  await labels.getByRole('combobox', { name: 'New label hotkey' }).selectOption('5');
  await labels.getByRole('button', { name: 'Add' }).click();
  await expect(labels.getByRole('textbox', { name: 'Name of bored' })).toBeVisible();
  await labels.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('button', { name: /^bored/ })).toBeVisible();

  await other.reload();
  await other.getByRole('button', { name: 'Labels…' }).click();
  await other.getByRole('dialog', { name: 'Labels' }).getByRole('button', { name: 'Delete bored' }).click();
  await expect(
    other.getByRole('dialog', { name: 'Labels' }).getByRole('textbox', { name: 'Name of bored' }),
  ).toBeHidden();
  await other.close();

  // Key 5 here still means "bored": the core refuses it, the row reverts, the message is shown.
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const first = list.getByRole('option').first();
  await first.click();
  await page.keyboard.press('5');
  const alert = page.getByRole('alert').filter({ hasText: 'Could not save the label' });
  await expect(alert).toContainText(/spk_a_01\.wav: Label \d+ not found/);
  await expect(first).toHaveAttribute('data-label', '');
  await expect(page.getByTestId('save-state')).toContainText('Not saved');
  await expect(page.getByTestId('labelled-count')).toHaveText('labelled 0 / total 36');
  await snap(page, 'save-error');

  // Labelling still works, and dismissing the message clears the error state.
  await first.click();
  await page.keyboard.press('1');
  await expect(first).toHaveAttribute('data-label', 'neutral');
  await page.getByRole('button', { name: 'Dismiss error' }).click();
  await expect(alert).toBeHidden();
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');

  // Deleting a label in use is not offered, and the dialog says why (labels.spec.ts has more).
  await page.getByRole('button', { name: 'Labels…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Labels' });
  await expect(dialog.getByRole('button', { name: 'Delete neutral' })).toBeDisabled();
  await expect(dialog.getByRole('button', { name: 'Delete neutral' })).toHaveAccessibleDescription(
    'In use by 1 annotation(s): relabel them before deleting neutral',
  );
  await expect(dialog.getByRole('textbox', { name: 'Name of neutral' })).toBeVisible();
});

test('export refuses a folder that is not empty, then overwrites when allowed', async ({ page, host, tmp }) => {
  const out = path.join(tmp, 'export');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'README.txt'), 'not an export');

  await openStudio(page, host);
  await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
  await page.keyboard.press('2');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');

  await page.getByRole('button', { name: 'Export…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export dataset' });
  await dialog.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await dialog.getByRole('combobox', { name: 'Format' }).selectOption('csv');
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText(`Export folder ${out} is not empty`);
  expect(fs.readdirSync(out)).toEqual(['README.txt']);

  await dialog.getByRole('checkbox', { name: /Overwrite/ }).check();
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(dialog.getByRole('region', { name: 'Export summary' })).toContainText('1 labelled utterance(s)');
  expect(fs.readdirSync(out).sort()).toEqual(['README.txt', 'dataset.csv', 'label_map.json', 'provenance.json']);
  expect(fs.readFileSync(path.join(out, 'dataset.csv'), 'utf8')).toContain('spk_a_01.wav');
});
