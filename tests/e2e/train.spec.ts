import fs from 'node:fs';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { REPO_ROOT, expect, expectAccessible, openStudio, snap, test } from './fixtures';

test('train model: fine-tune the demo model 1 epoch on the labels, see its report beside the current one, activate', async ({
  page,
  host,
}) => {
  test.setTimeout(180_000);
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const status = page.getByRole('contentinfo');
  const banner = page.getByRole('banner');

  // Label 24 utterances with the four classes in turn.
  await list.getByRole('option').first().click();
  for (let i = 0; i < 24; i++) {
    await page.keyboard.press(String((i % 4) + 1));
    await expect(list.locator(`[aria-posinset="${i + 2}"]`)).toHaveAttribute('aria-selected', 'true');
  }
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 24 / total 36');

  await banner.getByRole('button', { name: 'Train model…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Train model' });
  await dialog.getByLabel('Epochs').fill('1');
  await dialog.getByRole('button', { name: 'Train', exact: true }).click();
  const report = dialog.getByRole('table', { name: 'New model beside the current model' });
  await expect(report).toBeVisible({ timeout: 150_000 });
  await expect(dialog.getByRole('table', { name: 'Training curve' }).getByRole('row')).toHaveCount(2);
  await expect(report).toContainText('wavfusion-demo-ft1 (new)');
  // The curve as a chart (ECharts, SVG), an image named for assistive technology, beside its table.
  const curve = dialog.getByTestId('training-curve');
  await expect(curve).toHaveAttribute('role', 'img');
  await expect(curve).toHaveAttribute('aria-label', /^Training curve: loss and validation UA over 1 epoch/);
  await expect(curve.locator('svg')).toBeVisible();
  await expectAccessible(page, 'train dialog with its report');
  // It saves as SVG (well-formed, titled, with its legend) and as a PNG of twice its size.
  const [svgFile] = await Promise.all([
    page.waitForEvent('download'),
    dialog.getByRole('button', { name: 'Save the training curve as SVG' }).click(),
  ]);
  expect(svgFile.suggestedFilename()).toBe('training-curve.svg');
  const svg = fs.readFileSync((await svgFile.path())!, 'utf8');
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(svg).toContain('<title>Training curve: loss and validation UA per epoch</title>');
  for (const legend of ['>Loss<', '>Validation UA<']) expect(svg).toContain(legend);
  const [pngFile] = await Promise.all([
    page.waitForEvent('download'),
    dialog.getByRole('button', { name: 'Save the training curve as PNG' }).click(),
  ]);
  const png = fs.readFileSync((await pngFile.path())!);
  const box = (await curve.boundingBox())!;
  expect(png.toString('ascii', 1, 4)).toBe('PNG');
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Math.round(box.width * 2), Math.round(box.height * 2)]);
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(page, 'train-dialog-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  const shot = await snap(page, 'train-dialog');
  // The README's copy is refreshed on request only (UPDATE_DOCS_SCREENSHOTS=1), so a run leaves the tree clean.
  if (process.env.UPDATE_DOCS_SCREENSHOTS)
    fs.copyFileSync(shot, path.join(REPO_ROOT, 'docs', 'screenshots', 'train-dialog.png'));
  await dialog.getByRole('button', { name: 'Activate wavfusion-demo-ft1' }).click();
  await expect(dialog.getByRole('status').filter({ hasText: 'is the active model' })).toBeVisible();
});
