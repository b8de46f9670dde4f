import fs from 'node:fs';
import path from 'node:path';
import { copyDemoClips, expect, openStudio, snap, test } from './fixtures';

/**
 * Drives the main views into a realistic state and saves screenshots under test-results/screenshots/
 * for review: main view, import report, export dialog, labels dialog.
 */
test('screenshots of the main views', async ({ page, host, tmp }) => {
  // A manifest with imported labels (one new) and two bad rows, next to real audio.
  const corpus = path.join(tmp, 'field-recordings');
  const wavs = copyDemoClips('spk_c', corpus, 4);
  fs.writeFileSync(path.join(corpus, 'broken.wav'), 'not really a wav file');
  const manifest = path.join(corpus, 'manifest.csv');
  fs.writeFileSync(
    manifest,
    [
      'path,text,speaker,label,start,end',
      `${path.basename(wavs[0]!)},"Imported with a label, outlined in the list",field_c,happy,0,1.2`,
      `${path.basename(wavs[0]!)},Second half of the same recording,field_c,,1.2,2.4`,
      `${path.basename(wavs[1]!)},A label the project did not have yet,field_c,surprised,,`,
      `${path.basename(wavs[2]!)},This one ends after the recording does,field_c,sad,0,99`,
      `broken.wav,Broken file,field_c,,,`,
      `${path.basename(wavs[3]!)},Not a time,field_c,,abc,`,
    ].join('\n'),
  );

  await openStudio(page, host);
  await page.getByRole('button', { name: 'Import…' }).click();
  const importDialog = page.getByRole('dialog', { name: 'Import audio' });
  await importDialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(manifest);
  await importDialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(importDialog.getByRole('region', { name: 'Import report' })).toBeVisible();
  await expect(importDialog.getByRole('table', { name: 'Import failures' })).toBeVisible();
  await snap(page, 'import-report');
  await importDialog.getByRole('button', { name: 'Done' }).click();

  // Label a few utterances from the keyboard, rate one, and leave a labelled one selected.
  const list = page.getByRole('listbox', { name: 'Utterances' });
  await page.getByRole('combobox', { name: 'Filter by speaker' }).selectOption('spk_a');
  await list.getByRole('option').first().click();
  for (const key of ['2', '3', '1', '4', '2']) await page.keyboard.press(key);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  await list.getByRole('option', { name: /spk_a_02\.wav/ }).click();
  await page.getByRole('radio', { name: 'Valence 2' }).check();
  await page.getByRole('radio', { name: 'Arousal 5' }).check();
  await page.getByRole('textbox', { name: 'Note' }).fill('Raised voice towards the end; clipped last word.');
  await list.focus();
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  await expect(page.getByTestId('utterance-save-state')).toHaveText('Saved');
  await snap(page, 'main-view');

  // A clip with context on both sides: neighbouring regions in the waveform.
  await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('Second half');
  await expect(list.getByRole('option')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await snap(page, 'main-view-regions');
  await page.getByRole('button', { name: 'Clear filters' }).click();

  await page.getByRole('button', { name: 'Labels…' }).click();
  const labels = page.getByRole('dialog', { name: 'Labels' });
  await expect(labels.getByRole('button', { name: 'Delete happy' })).toBeDisabled();
  await expect(labels).toContainText('In use by');
  await snap(page, 'labels-dialog');
  await labels.getByRole('button', { name: 'Done' }).click();

  await page.getByRole('button', { name: 'Export…' }).click();
  const exportDialog = page.getByRole('dialog', { name: 'Export dataset' });
  await exportDialog.getByRole('textbox', { name: 'Export folder' }).fill(path.join(tmp, 'export'));
  await exportDialog.getByRole('checkbox', { name: /Include imported labels/ }).check();
  await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(exportDialog.getByRole('region', { name: 'Export summary' })).toBeVisible();
  await snap(page, 'export-dialog');
});
