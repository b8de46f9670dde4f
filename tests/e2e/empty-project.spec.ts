import path from 'node:path';
import { copyDemoClips, expect, snap, startHost, test } from './fixtures';

test('a new, empty project says so and imports from its empty state', async ({ page, tmp }) => {
  const host = await startHost({ project: path.join(tmp, 'fresh.sqlite') });
  try {
    await page.goto(host.url);
    const empty = page.getByRole('status').filter({ hasText: 'No utterances — import a folder or manifest' });
    await expect(empty).toBeVisible();
    await expect(page.getByRole('region', { name: 'Waveform' })).toContainText('Select an utterance');
    await expect(page.getByTestId('labelled-count')).toHaveText('labelled 0 / total 0');
    await snap(page, 'empty-project');

    const folder = path.join(tmp, 'first-batch');
    copyDemoClips('spk_c', folder, 2);
    await empty.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import audio' });
    await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(dialog.getByTestId('count-utterances-added')).toHaveText('2');
    await dialog.getByRole('button', { name: 'Done' }).click();

    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await expect(options).toHaveCount(2);
    await expect(options.first()).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();

    // A filter that matches nothing has its own empty state.
    await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('no such words anywhere');
    await expect(page.getByRole('status').filter({ hasText: 'No utterances match the filter' })).toBeVisible();
    await page.getByRole('status').getByRole('button', { name: 'Clear filters' }).click();
    await expect(options).toHaveCount(2);
  } finally {
    await host.stop();
  }
});
