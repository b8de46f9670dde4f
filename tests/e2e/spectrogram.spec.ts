import fs from 'node:fs';
import path from 'node:path';
import { DEMO_CORPUS, expect, expectAccessible, openStudio, snap, test, writeLongWav } from './fixtures';

interface TileRequest {
  recordingId: number;
  startSeconds: number;
  endSeconds: number;
  widthPx: number;
  heightPx: number;
  scale?: string;
}

test('the spectrogram of a long recording: G toggles it, tiles of the visible range come from the core, zoom asks anew', async ({
  page,
  host,
  tmp,
}) => {
  const folder = path.join(tmp, 'long');
  fs.mkdirSync(folder);
  writeLongWav(path.join(DEMO_CORPUS, 'spk_b', 'spk_b_03.wav'), path.join(folder, 'interview.wav'), 45);
  const tiles: TileRequest[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/getSpectrogramTile') tiles.push(r.postDataJSON() as TileRequest);
  });

  await openStudio(page, host);
  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog.getByTestId('count-recordings-added')).toHaveText('1');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('interview');
  await expect(page.getByRole('listbox', { name: 'Utterances' }).getByRole('option')).toHaveCount(1);
  const play = page.getByRole('button', { name: 'Play' });
  await expect(play).toBeEnabled();
  expect(tiles).toEqual([]);

  // G (the key table's row) shows it; the tiles span the whole clip, which fits the panel.
  await page.keyboard.press('Escape');
  await page.keyboard.press('g');
  const toggle = page.getByRole('button', { name: 'Spectrogram' });
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  const spectrogram = page.getByTestId('spectrogram');
  await expect.poll(async () => Number(await spectrogram.getAttribute('data-tiles'))).toBeGreaterThan(0);
  const visible = async () => ({
    start: Number(await spectrogram.getAttribute('data-view-start')),
    end: Number(await spectrogram.getAttribute('data-view-end')),
  });
  const fit = await visible();
  expect(fit.start).toBe(0);
  const covers = (requests: TileRequest[], range: { start: number; end: number }) => {
    const sorted = [...requests].sort((a, b) => a.startSeconds - b.startSeconds);
    expect(sorted[0]!.startSeconds).toBeLessThanOrEqual(range.start + 1e-6);
    expect(sorted.at(-1)!.endSeconds).toBeGreaterThanOrEqual(Math.min(range.end, 45) - 1e-6);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.startSeconds).toBeCloseTo(sorted[i - 1]!.endSeconds, 6);
    const span = sorted[0]!.endSeconds - sorted[0]!.startSeconds;
    // Nothing far from what is in view: at most one tile beyond each side.
    for (const t of sorted) {
      expect(t.endSeconds).toBeGreaterThan(range.start - span - 1e-6);
      expect(t.startSeconds).toBeLessThan(range.end + span + 1e-6);
      expect([t.widthPx, t.scale]).toEqual([256, 'mel']);
    }
  };
  covers(tiles, fit);
  const atFit = tiles.length;

  await snap(page, 'spectrogram-light');
  await expectAccessible(page, 'spectrogram on', '[aria-label="Waveform"]');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(page, 'spectrogram-dark');
  await expectAccessible(page, 'spectrogram on (dark)', '[aria-label="Waveform"]');
  await page.emulateMedia({ colorScheme: 'light' });

  // Zoom in: new tiles at the new zoom, for the range now in view (the start of the clip).
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Zoom in' }).click();
  await expect.poll(() => tiles.length).toBeGreaterThan(atFit);
  await expect.poll(async () => (await visible()).end).toBeLessThan(fit.end / 3);
  await page.waitForTimeout(600);
  const zoomed = await visible();
  // The clicks may have settled at a zoom on the way: the tiles at the last zoom (their span) cover the view.
  const last = tiles.at(-1)!;
  const span = last.endSeconds - last.startSeconds;
  covers(
    tiles.slice(atFit).filter((t) => Math.abs(t.endSeconds - t.startSeconds - span) < 1e-6),
    zoomed,
  );
  await expect.poll(async () => Number(await spectrogram.getAttribute('data-tiles'))).toBeGreaterThan(0);
  await snap(page, 'spectrogram-zoomed');

  // The dB range changes the colours only (nothing fetched); the log scale fetches its own tiles.
  const beforeRange = tiles.length;
  await page.getByRole('spinbutton', { name: 'Floor' }).fill('-80');
  await page.getByRole('spinbutton', { name: 'Floor' }).press('Tab');
  await page.waitForTimeout(400);
  expect(tiles.length).toBe(beforeRange);
  await page.getByRole('combobox', { name: 'Frequency scale' }).selectOption('log');
  await expect.poll(() => tiles.filter((t) => t.scale === 'log').length).toBeGreaterThan(0);

  // On a small window the spectrogram's controls still fit beside the zoom buttons.
  await page.setViewportSize({ width: 1024, height: 640 });
  const panel = (await page.getByRole('region', { name: 'Waveform' }).boundingBox())!;
  for (const name of ['Zoom in', 'Spectrogram', 'Play']) {
    const button = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
    expect(button.x + button.width, name).toBeLessThanOrEqual(panel.x + panel.width);
  }
  await page.waitForTimeout(400);
  await expect.poll(async () => Number(await spectrogram.getAttribute('data-tiles'))).toBeGreaterThan(0);
  await snap(page, 'spectrogram-1024');

  // G again: the waveform alone.
  await page.getByRole('listbox', { name: 'Utterances' }).focus();
  await page.keyboard.press('g');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(spectrogram).toHaveCount(0);
});

test('the recording overview shows every segment of a long recording with its label; a click selects one', async ({
  page,
  host,
  tmp,
}) => {
  const folder = path.join(tmp, 'long');
  fs.mkdirSync(folder);
  writeLongWav(path.join(DEMO_CORPUS, 'spk_b', 'spk_b_03.wav'), path.join(folder, 'interview.wav'), 45);
  await openStudio(page, host);
  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog.getByTestId('count-recordings-added')).toHaveText('1');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('interview');
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await expect(options).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  // One segment over the whole recording, all in the clip: no overview.
  const overview = page.getByTestId('recording-overview');
  await expect(overview).toHaveCount(0);

  // Split at 60% of the clip, then once more in the first part: three segments.
  const wave = page.getByTestId('waveform');
  let box = (await wave.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.keyboard.press('s');
  await expect(options).toHaveCount(2);
  await expect(overview).toHaveAttribute('data-segments', '2');
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  box = (await wave.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.keyboard.press('s');
  await expect(overview).toHaveAttribute('data-segments', '3');
  await page.getByRole('listbox', { name: 'Utterances' }).focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('3');
  await expect(options.first()).toContainText('angry');

  // The overview names the label where there is room and frames the clip in view.
  const labelled = overview.locator('[data-overview]').filter({ hasText: 'angry' });
  await expect(labelled).toHaveCount(1);
  await expect(overview.locator('[data-overview="view"]')).toHaveCount(1);
  await expect(overview.locator('[data-overview="current"]')).toHaveCount(1);
  const waveform = page.getByRole('region', { name: 'Waveform' });
  const span = await waveform.locator('.meta.num').first().textContent();
  await snap(page, 'overview-light');
  await expectAccessible(page, 'overview', '[aria-label="Waveform"]');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(page, 'overview-dark');
  await expectAccessible(page, 'overview (dark)', '[aria-label="Waveform"]');

  // A click on the last segment in the overview selects it.
  const strip = (await overview.boundingBox())!;
  await page.mouse.click(strip.x + strip.width * 0.9, strip.y + strip.height / 2);
  await expect(waveform.locator('.meta.num').first()).not.toHaveText(span!);
  await expect(waveform.locator('.meta.num').first()).toContainText('47.25');
});
