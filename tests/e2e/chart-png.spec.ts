import type { Locator, Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect, expectAccessible, openStudio, SCREENSHOTS, snap, test } from './fixtures';

/** A PNG read back by the test (not by the code that wrote it): size from IHDR, 8-bit RGB(A) pixels. */
interface Png {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel. */
  rgba: Uint8Array;
}

function readPng(file: Buffer): Png {
  expect([...file.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(file.toString('ascii', 12, 16)).toBe('IHDR');
  const width = file.readUInt32BE(16);
  const height = file.readUInt32BE(20);
  const [depth, colourType, , , interlace] = file.subarray(24, 29);
  expect(depth).toBe(8);
  expect(interlace).toBe(0);
  const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  expect(channels, `colour type ${colourType}`).toBeGreaterThan(0);
  const idat: Buffer[] = [];
  for (let at = 8; at < file.length;) {
    const length = file.readUInt32BE(at);
    const type = file.toString('ascii', at + 4, at + 8);
    if (type === 'IDAT') idat.push(file.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).toBe(height * (stride + 1));
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    if (filter > 4) throw new Error(`row ${y}: PNG filter type ${filter}`);
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[row + i - channels]! : 0;
      const b = y > 0 ? out[row - stride + i]! : 0;
      const c = y > 0 && i >= channels ? out[row - stride + i - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[row + i] = (line[i]! + predictor) & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: out };
  const rgba = new Uint8Array(width * height * 4);
  for (let k = 0; k < width * height; k++) rgba.set([out[k * 3]!, out[k * 3 + 1]!, out[k * 3 + 2]!, 255], k * 4);
  return { width, height, rgba };
}

/** The share of pixels that differ from `background` (r, g, b) by more than `tolerance` in a channel. */
function shareUnlike(png: Png, background: number[], tolerance = 24): number {
  let unlike = 0;
  for (let k = 0; k < png.width * png.height; k++) {
    const d = [0, 1, 2].reduce((m, ch) => Math.max(m, Math.abs(png.rgba[k * 4 + ch]! - background[ch]!)), 0);
    if (d > tolerance) unlike++;
  }
  return unlike / (png.width * png.height);
}

/** Saves a chart through its button; answers the file name and the contents. */
async function save(page: Page, button: Locator): Promise<{ name: string; data: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: download.suggestedFilename(), data: fs.readFileSync((await download.path())!) };
}

test('the model report’s charts save as PNG: 2× the chart’s size, the SVG’s background, not blank', async ({
  page,
  host,
}) => {
  test.setTimeout(120_000);
  await openStudio(page, host);
  const banner = page.getByRole('banner');
  const list = page.getByRole('listbox', { name: 'Utterances' });

  // Predictions, then 24 human labels (the model's, or "neutral" every third; reliability needs 20).
  await banner.getByRole('button', { name: 'Run model…' }).click();
  const run = page.getByRole('dialog', { name: 'Run model' });
  await run.getByRole('button', { name: 'Run model', exact: true }).click();
  await expect(run.getByRole('region', { name: 'Model run report' })).toBeVisible({ timeout: 60_000 });
  await run.getByRole('button', { name: 'Done' }).click();
  await list.getByRole('option').first().click();
  for (let i = 0; i < 24; i++) {
    await page.keyboard.press(i % 3 === 2 ? '1' : 'Enter');
    await expect(list.locator(`[aria-posinset="${i + 2}"]`)).toHaveAttribute('aria-selected', 'true');
  }
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');

  await banner.getByRole('button', { name: 'Model report' }).click();
  const dialog = page.getByRole('dialog', { name: 'Model report' });
  const charts = { confusion: dialog.getByTestId('confusion'), reliability: dialog.getByTestId('reliability') };
  // Each chart is an image to assistive technology, named by what it shows, drawn (by ECharts) as SVG.
  for (const chart of Object.values(charts)) {
    await expect(chart).toHaveAttribute('role', 'img');
    await expect(chart).toHaveAttribute('aria-label', /.{40,}/);
    await expect(chart.locator('svg')).toBeVisible();
  }
  await expectAccessible(page, 'model report with Save PNG');

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // The whole report in this theme, for review.
    await expect(dialog.getByTestId('reliability').locator('svg')).toBeVisible();
    await snap(page, `chart-png-report-${scheme}`);
    if (scheme === 'dark') await expectAccessible(page, 'model report, dark');
    for (const [chart, name] of [
      ['confusion', 'the confusion matrix'],
      ['reliability', 'the reliability diagram'],
    ] as const) {
      const svg = await save(page, dialog.getByRole('button', { name: `Save ${name} as SVG` }));
      const png = await save(page, dialog.getByRole('button', { name: `Save ${name} as PNG` }));
      expect(png.name).toBe(svg.name.replace(/\.svg$/, '.png'));
      expect(png.name).toMatch(new RegExp(`^${chart}-wavfusion-demo-[\\w.-]+\\.png$`));

      // For review: the saved PNG beside the chart as the page shows it.
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      fs.writeFileSync(path.join(SCREENSHOTS, `chart-png-saved-${chart}-${scheme}.png`), png.data);
      await charts[chart].screenshot({ path: path.join(SCREENSHOTS, `chart-png-page-${chart}-${scheme}.png`) });

      // Twice the chart's size on the page, in whole pixels.
      const box = (await charts[chart].boundingBox())!;
      const image = readPng(png.data);
      expect([image.width, image.height]).toEqual([Math.round(box.width * 2), Math.round(box.height * 2)]);

      // The SVG's background (its first rect, the size of the chart) is the panel's colour in this
      // theme, and the PNG is that background with the chart drawn on it.
      const panel = await dialog.evaluate((el) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { getPropertyValue(name: string): string } })
          .getComputedStyle(el)
          .getPropertyValue('--panel')
          .trim(),
      );
      const background = [1, 3, 5].map((i) => Number.parseInt(panel.slice(i, i + 2), 16));
      const rect = /<rect\b[^>]*>/.exec(svg.data.toString('utf8'))?.[0] ?? '';
      expect(rect, 'the SVG has an opaque background').toContain(`fill="${panel}"`);
      expect(1 - shareUnlike(image, background, 0), `${chart} (${scheme}): share of background pixels`).toBeGreaterThan(
        0.05,
      );
      expect(image.rgba.filter((_, k) => k % 4 === 3 && image.rgba[k] !== 255).length, 'not opaque').toBe(0);
      if (scheme === 'dark') expect(Math.max(...background)).toBeLessThan(100);
      else expect(Math.min(...background)).toBeGreaterThan(200);
      const drawn = shareUnlike(image, background);
      expect(drawn, `${chart} (${scheme}): share of non-background pixels`).toBeGreaterThan(0.03);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });

  // The theme chosen in the studio, not the OS's, is the one drawn: dark chosen while the OS says light.
  await dialog.getByRole('button', { name: 'Close' }).click();
  const theme = page.getByRole('button', { name: /^Theme:/ });
  await theme.click(); // light
  await theme.click(); // dark
  await expect(theme).toHaveAccessibleName('Theme: dark');
  await banner.getByRole('button', { name: 'Model report' }).click();
  for (const chart of Object.values(charts))
    await expect(chart.locator('svg rect').first()).toHaveAttribute('fill', '#171c24');
  await snap(page, 'chart-png-report-chosen-dark');
});
