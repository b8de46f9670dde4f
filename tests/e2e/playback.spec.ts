import { expect, openStudio, test } from './fixtures';

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
