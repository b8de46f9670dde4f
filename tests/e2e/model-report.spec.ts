import { expect, openStudio, snap, test } from './fixtures';

test('model report: metrics, confusion heatmap that filters the list, reliability, bulk accept and one undo', async ({
  page,
  host,
}) => {
  test.setTimeout(120_000);
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const options = list.getByRole('option');
  const status = page.getByRole('contentinfo');
  const banner = page.getByRole('banner');

  // Too early: no labels yet, and the report says so instead of numbers.
  await banner.getByRole('button', { name: 'Model report' }).click();
  let dialog = page.getByRole('dialog', { name: 'Model report' });
  await expect(dialog.getByTestId('report-message')).toContainText('No human labels to compare with');
  await dialog.getByRole('button', { name: 'Close' }).click();

  // Run the demo model over the project.
  await banner.getByRole('button', { name: 'Run model…' }).click();
  const run = page.getByRole('dialog', { name: 'Run model' });
  await run.getByRole('button', { name: 'Run model', exact: true }).click();
  await expect(run.getByRole('region', { name: 'Model run report' })).toBeVisible({ timeout: 60_000 });
  await run.getByRole('button', { name: 'Done' }).click();

  // Label 24 utterances: accept the model's label (Enter) three times in four, say "neutral" (1) the fourth.
  await options.first().click();
  for (let i = 0; i < 24; i++) {
    await page.keyboard.press(i % 4 === 3 ? '1' : 'Enter');
    // (the list is virtual: rows are found by their position in the whole list)
    await expect(list.locator(`[aria-posinset="${i + 2}"]`)).toHaveAttribute('aria-selected', 'true');
  }
  await expect(status.getByTestId('save-state')).toHaveText('All changes saved');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 24 / total 36');

  // The report: metric tiles, the confusion heatmap, the reliability diagram.
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await expect(dialog.getByRole('definition').first()).toHaveText(/^\d+\.\d %$/);
  await expect(dialog.getByText('24 labelled utterance(s) with a prediction')).toBeVisible();
  const confusion = dialog.getByTestId('confusion');
  await expect(confusion.getByRole('button')).toHaveCount(16);
  await expect(dialog.getByTestId('reliability')).toBeVisible();
  const cells = await confusion.getByRole('button').evaluateAll((els) => els.map((e) => Number(e.textContent) || 0));
  expect(cells.reduce((a, b) => a + b, 0)).toBe(24);
  await snap(page, 'model-report');
  await dialog.getByRole('button', { name: 'Row %' }).click();
  await expect(confusion.getByRole('button').first()).toContainText('%');
  await dialog.getByRole('button', { name: 'Counts' }).click();

  // Clicking the fullest diagonal cell lists exactly those utterances.
  const best = cells.reduce((bi, v, i) => (i % 5 === 0 && v > cells[bi]! ? i : bi), 0);
  const cell = confusion.getByRole('button').nth(best);
  const label = (await cell.getAttribute('aria-label'))!.match(/predicted (\w+)/)![1]!;
  await cell.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('predicted-filter')).toContainText(`Model said ${label}`);
  await expect(page.getByText(`${cells[best]} of 36 utterances`)).toBeVisible();
  const shown = await options.evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-predicted')]),
  );
  expect(shown).toHaveLength(cells[best]!);
  for (const [human, predicted] of shown) expect([human, predicted]).toEqual([label, label]);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByText('36 utterances', { exact: true })).toBeVisible();

  // Bulk accept everything at or above 0.3 in the whole list: preview, accept, then one undo.
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await dialog.getByRole('spinbutton', { name: 'Bulk accept threshold' }).fill('0.3');
  await dialog.getByRole('spinbutton', { name: 'Bulk accept threshold' }).press('Tab');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  const preview = dialog.getByTestId('bulk-preview');
  await expect(preview).toContainText('prediction(s) would become your labels');
  await expect(preview).toContainText('24 already labelled');
  const count = Number(await preview.locator('strong').first().textContent());
  expect(count).toBeGreaterThan(0);
  await snap(page, 'model-report-bulk-preview');
  await dialog.getByRole('button', { name: `Accept ${count} prediction(s)` }).click();
  await expect(dialog.getByRole('status')).toContainText(`Accepted ${count} prediction(s)`);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(status.getByTestId('labelled-count')).toHaveText(`labelled ${24 + count} / total 36`);
  await page.keyboard.press('Control+z');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 24 / total 36');
});
