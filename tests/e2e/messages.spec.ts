import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { copyDemoClips, expect, openStudio, REPO_ROOT, snap, startHost, test } from './fixtures';

test('the first screen names the demo model and never asks for a model bundle', async ({ page, host }) => {
  // Record every text the prediction panel shows, from the first paint on.
  await page.addInitScript(`
    window.seenTexts = [];
    new MutationObserver(() => {
      const panel = document.querySelector('[data-testid="prediction-panel"]');
      if (panel && panel.textContent) window.seenTexts.push(panel.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  `);
  await openStudio(page, host);
  const panel = page.getByRole('region', { name: 'Model prediction' });
  await expect(panel).toContainText('No prediction for this utterance yet. Run wavfusion-demo to get one.');
  await expect(page.getByTestId('model-status')).toContainText('wavfusion-demo');
  const seen = (await page.evaluate('window.seenTexts')) as string[];
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.filter((t) => t.includes('Add a model bundle'))).toEqual([]);
});

test('Run model opens fresh each time, not on the last report', async ({ page, host }) => {
  await openStudio(page, host);
  const open = () => page.getByRole('banner').getByRole('button', { name: 'Run model…' }).click();
  await open();
  const dialog = page.getByRole('dialog', { name: 'Run model' });
  await dialog.getByRole('button', { name: 'Run model', exact: true }).click();
  await expect(dialog.getByRole('region', { name: 'Model run report' })).toBeVisible({ timeout: 60_000 });
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('contentinfo')).toContainText('Model run done');

  await open();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('region', { name: 'Model run report' })).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Run again' })).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Run model', exact: true })).toBeEnabled();
  await expect(dialog.getByRole('button', { name: 'Close', exact: true }).last()).toBeVisible();
});

test('the waveform tag shows the label an imported manifest gave', async ({ page, host, tmp }) => {
  const [clip] = copyDemoClips('spk_c', path.join(tmp, 'm'), 1);
  const renamed = path.join(tmp, 'm', 'manifest_clip.wav');
  fs.renameSync(clip!, renamed);
  const manifest = path.join(tmp, 'm', 'manifest.csv');
  fs.writeFileSync(manifest, 'path,text,label\nmanifest_clip.wav,Who moved my chair?,angry\n');

  await openStudio(page, host);
  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(manifest);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog.getByRole('region', { name: 'Import report' })).toContainText('Every file was imported.');
  await dialog.getByRole('button', { name: 'Done' }).click();

  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('manifest_clip');
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await expect(options).toHaveCount(1);
  await options.first().click();
  const region = page.getByTestId('waveform').locator('[data-region="current"]');
  await expect(region).toHaveAttribute('data-origin', 'import');
  await expect(region).toContainText('angry (imported)');
  await expect(region).toHaveAttribute('title', /angry \(imported\) \(from the imported manifest/);
  await snap(page, 'imported-label-tag');
});

test('"N missing recording(s)" lists the utterances whose files are missing', async ({ page, tmp }) => {
  const moving = path.join(tmp, 'session-1');
  const staying = path.join(tmp, 'session-2');
  copyDemoClips('spk_d', moving, 2);
  copyDemoClips('spk_c', staying, 3);
  const project = path.join(tmp, 'p.sqlite');
  for (const folder of [moving, staying])
    execFileSync(process.execPath, ['bin/wavfusion.mjs', 'import', '--project', project, folder], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    });
  fs.renameSync(moving, path.join(tmp, 'moved-away'));

  const host = await startHost({ project });
  try {
    await page.goto(host.url);
    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await expect(options).toHaveCount(5);
    await page.getByRole('contentinfo').getByRole('button', { name: '2 missing recording(s)' }).click();
    await expect(options).toHaveCount(2);
    for (const o of await options.all()) await expect(o).toHaveAccessibleName(/recording missing/);
    await expect(page.getByText('2 of 5 utterances')).toBeVisible();
    await expect(page.getByTestId('missing-filter')).toBeVisible();
    await snap(page, 'missing-filter');
    await page.getByRole('button', { name: 'Show all recordings, not only missing ones' }).click();
    await expect(options).toHaveCount(5);
  } finally {
    await host.stop();
  }
});

for (const [width, height] of <[number, number][]>[
  [1440, 900],
  [1280, 720],
  [1024, 640],
]) {
  test(`a save error at ${width}×${height} leaves the note field visible and usable`, async ({ page, host }) => {
    await page.setViewportSize({ width, height });
    await page.route('**/api/setDimensions', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'internal', message: 'The disk is full' }),
      }),
    );
    await openStudio(page, host);
    await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
    const note = page.getByRole('textbox', { name: 'Note' });
    await note.fill('A note that cannot be saved');
    const alert = page.getByRole('alert').filter({ hasText: 'The disk is full' });
    await expect(alert).toBeVisible();
    await note.scrollIntoViewIfNeeded();
    const a = (await alert.boundingBox())!;
    const n = (await note.boundingBox())!;
    const overlap = a.x < n.x + n.width && n.x < a.x + a.width && a.y < n.y + n.height && n.y < a.y + a.height;
    expect(overlap, `alert ${JSON.stringify(a)} over note ${JSON.stringify(n)}`).toBe(false);
    // What was typed stays in the field (marked not saved), to be sent again with the next edit.
    await expect(note).toHaveValue('A note that cannot be saved');
    await expect(page.getByTestId('utterance-save-state')).toContainText('Not saved');
    await snap(page, `save-error-note-${width}x${height}`);
  });
}
