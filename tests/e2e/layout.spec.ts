import type { Locator, Page } from '@playwright/test';
import { expect, openStudio, snap, test } from './fixtures';

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function box(locator: Locator): Promise<Box> {
  const b = await locator.boundingBox();
  expect(b, `${locator} has a box`).not.toBeNull();
  return b!;
}

/** The drawn waveform (wavesurfer's canvases, in its shadow root) must stay between its neighbours. */
async function checkWaveform(page: Page, label: string): Promise<Box> {
  const canvases = page.getByTestId('waveform').locator('canvas');
  await expect(canvases.first()).toBeVisible();
  // Let the resize settle (ResizeObserver, then a redraw).
  await page.waitForTimeout(300);
  const waves = await Promise.all((await canvases.all()).map(box));
  const wave = waves.reduce((u, b) => {
    const x = Math.min(u.x, b.x);
    const y = Math.min(u.y, b.y);
    return {
      x,
      y,
      width: Math.max(u.x + u.width, b.x + b.width) - x,
      height: Math.max(u.y + u.height, b.y + b.height) - y,
    };
  });
  const toolbar = await box(page.getByRole('toolbar', { name: 'Playback' }));
  const labelBar = await box(page.getByRole('region', { name: 'Label' }));
  const heading = await box(
    page.getByRole('region', { name: 'Label' }).getByRole('heading', { name: 'Emotion label' }),
  );
  expect(
    overlaps(wave, toolbar),
    `${label}: waveform ${JSON.stringify(wave)} over toolbar ${JSON.stringify(toolbar)}`,
  ).toBe(false);
  expect(overlaps(wave, labelBar), `${label}: waveform over the label bar`).toBe(false);
  expect(overlaps(wave, heading), `${label}: waveform over "Emotion label"`).toBe(false);
  expect(wave.height, `${label}: waveform height`).toBeGreaterThan(60);
  await snap(page, `layout-${label}`);
  return wave;
}

test('the waveform follows its panel through resizes and never covers the toolbar or the label bar', async ({
  page,
  host,
}) => {
  await openStudio(page, host);
  await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  const first = await checkWaveform(page, '1440x900');
  await page.setViewportSize({ width: 1440, height: 700 });
  await checkWaveform(page, '1440x700');
  await page.setViewportSize({ width: 1024, height: 640 });
  await checkWaveform(page, '1024x640');
  await page.setViewportSize({ width: 1440, height: 900 });
  const again = await checkWaveform(page, '1440x900-again');
  // Enlarged again, it is as tall as at first (not left squashed).
  expect(Math.abs(again.height - first.height)).toBeLessThan(4);
});

test('at 1024×640 no header button or detail control is cut off, and the filter summary is one line', async ({
  page,
  host,
}) => {
  await page.setViewportSize({ width: 1024, height: 640 });
  await openStudio(page, host);
  await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
  const viewport = page.viewportSize()!;
  const header = page.getByRole('banner');
  for (const name of ['Run model…', 'Import…', 'Export…', 'Labels…', 'Undo', 'Redo']) {
    const b = await box(header.getByRole('button', { name }));
    expect(b.x + b.width, `${name} inside the window`).toBeLessThanOrEqual(viewport.width);
    expect(b.x).toBeGreaterThanOrEqual(0);
  }
  const panel = page.getByRole('region', { name: 'Waveform' });
  for (const name of ['Previous utterance', 'Next utterance']) {
    const b = await box(panel.getByRole('button', { name }));
    expect(b.x + b.width, `${name} inside the window`).toBeLessThanOrEqual(viewport.width);
  }
  const editor = page.getByRole('region', { name: 'Annotation' });
  const e = await box(editor);
  expect(e.x + e.width).toBeLessThanOrEqual(viewport.width);
  // Nothing in the editor is wider than the editor (no horizontal cut-off).
  const overflow = await editor.evaluate((el) => {
    const scroller = el.querySelector('.editor-scroll')!;
    return scroller.scrollWidth - scroller.clientWidth;
  });
  expect(overflow).toBeLessThanOrEqual(0);

  // A filter: "N of 36 utterances" stays on one line beside "Clear filters" and the sort.
  await page.getByRole('combobox', { name: 'Filter by speaker' }).selectOption('spk_a');
  const summary = page.getByText('9 of 36 utterances');
  await expect(summary).toBeVisible();
  expect((await box(summary)).height).toBeLessThan(22);
  const sort = await box(page.getByRole('combobox', { name: 'Sort' }));
  const sidebar = await box(page.getByRole('region', { name: 'Utterance list' }));
  expect(sort.x + sort.width).toBeLessThanOrEqual(sidebar.x + sidebar.width);
  await snap(page, 'layout-1024x640-filtered');
});

test('zoomed in, the scrollbar does not cover the time axis', async ({ page, host }) => {
  await openStudio(page, host);
  await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  const zoomIn = page.getByRole('button', { name: 'Zoom in' });
  for (let i = 0; i < 4; i++) await zoomIn.click();
  await page.waitForTimeout(300);
  const scroll = page.getByTestId('waveform').locator('.scroll');
  const dims = await scroll.evaluate((el) => ({
    scrollWidth: el.scrollWidth,
    clientWidth: el.clientWidth,
    clientHeight: el.clientHeight,
    offsetHeight: (el as unknown as { offsetHeight: number }).offsetHeight,
  }));
  expect(dims.scrollWidth).toBeGreaterThan(dims.clientWidth);
  const timeline = page.locator('.timeline');
  const scrollBox = await box(scroll);
  const tickBox = await box(timeline);
  // The scrollbar is at the bottom of the waveform's scroll area: above the time axis, not on it.
  expect(scrollBox.y + scrollBox.height).toBeLessThanOrEqual(tickBox.y + 1);
  expect(dims.offsetHeight - dims.clientHeight, 'a scrollbar takes room').toBeGreaterThanOrEqual(0);
  await snap(page, 'layout-zoomed');

  // Scrolled to the end, the axis still has labels, and the last one is inside the axis.
  await scroll.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await page.waitForTimeout(300);
  const labels = timeline.locator('.tick.major');
  await expect(labels.first()).toBeVisible();
  expect(await labels.count()).toBeGreaterThanOrEqual(2);
  const lastLabel = await box(labels.last());
  expect(lastLabel.x + lastLabel.width).toBeLessThanOrEqual(tickBox.x + tickBox.width + 1);
  const texts = await labels.allTextContents();
  expect(Number(texts.at(-1))).toBeGreaterThan(2);
  await snap(page, 'layout-zoomed-scrolled');
});
