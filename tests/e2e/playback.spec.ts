import fs from 'node:fs';
import path from 'node:path';
import { DEMO_CORPUS, expect, openStudio, test, writeLongWav } from './fixtures';

const seconds = async (text: Promise<string | null>) => Number((await text)?.replace(/[^\d.]/g, ''));

test('playback from the keyboard and the toolbar: play, stop at the end, loop, rate, seek, zoom', async ({
  page,
  host,
}) => {
  await openStudio(page, host);
  const play = page.getByRole('button', { name: 'Play' });
  const pause = page.getByRole('button', { name: 'Pause' });
  const position = page.getByLabel('Playback position');
  await expect(play).toBeEnabled();

  // Space plays the utterance; the position moves; it stops by itself at the utterance's end.
  await page.getByRole('listbox', { name: 'Utterances' }).focus();
  await page.getByRole('combobox', { name: 'Playback rate' }).selectOption('2');
  await page.getByRole('listbox', { name: 'Utterances' }).focus();
  await page.keyboard.press(' ');
  await expect(pause).toBeVisible();
  await expect.poll(() => seconds(position.textContent())).toBeGreaterThan(0.3);
  await expect(play).toBeVisible({ timeout: 10_000 });
  expect(await seconds(position.textContent())).toBeGreaterThan(2.5);

  // L loops: at 2× the 2.9 s utterance would have ended after 1.5 s, but it keeps playing.
  await page.keyboard.press('l');
  await expect(page.getByRole('button', { name: 'Loop' })).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press(' ');
  await expect(pause).toBeVisible();
  await page.waitForTimeout(2500);
  await expect(pause).toBeVisible();
  await page.keyboard.press(' ');
  await expect(play).toBeVisible();
  await page.getByRole('button', { name: 'Loop' }).click();
  await expect(page.getByRole('button', { name: 'Loop' })).toHaveAttribute('aria-pressed', 'false');

  // Click to seek: the middle of the waveform is the middle of the clip.
  const wave = page.getByTestId('waveform');
  const box = (await wave.boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await expect.poll(() => seconds(position.textContent())).toBeCloseTo(2.91 / 2, 0);

  // Zoom: buttons and Ctrl+wheel.
  const zoomOut = page.getByRole('button', { name: 'Zoom out' });
  await expect(zoomOut).toBeDisabled();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await expect(zoomOut).toBeEnabled();
  await page.getByRole('button', { name: 'Zoom to fit' }).click();
  await expect(zoomOut).toBeDisabled();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -100);
  await page.keyboard.up('Control');
  await expect(zoomOut).toBeEnabled();
});

test('short clips are decoded in the page; long ones are drawn from the core peaks and streamed', async ({
  page,
  host,
  tmp,
}) => {
  const folder = path.join(tmp, 'long');
  fs.mkdirSync(folder);
  writeLongWav(path.join(DEMO_CORPUS, 'spk_b', 'spk_b_03.wav'), path.join(folder, 'interview.wav'), 45);

  const media: { path: string; type: string }[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/media/')) media.push({ path: url.pathname, type: r.resourceType() });
  });
  await openStudio(page, host);
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  // The short first clip: fetched whole and decoded by the page.
  expect(media[0]).toEqual({ path: '/media/utterances/1/clip.wav', type: 'fetch' });

  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog.getByTestId('count-recordings-added')).toHaveText('1');
  await dialog.getByRole('button', { name: 'Done' }).click();

  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('interview');
  const option = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await expect(option).toHaveCount(1);
  await expect(page.getByRole('region', { name: 'Waveform' })).toContainText(/4[5-7]\.\d\d s long/);
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  const long = media.filter((m) => m.path === '/media/utterances/37/clip.wav');
  expect(long.length).toBeGreaterThan(0);
  expect(long.every((m) => m.type === 'media')).toBe(true);
  await page.keyboard.press('Escape');
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible();
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: 'Play' })).toBeVisible();
});
