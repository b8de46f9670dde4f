import fs from 'node:fs';
import path from 'node:path';
import { copyDemoClips, expect, openStudio, parseCsv, test, wavDuration } from './fixtures';

const round3 = (s: number) => Math.round(s * 1000) / 1000;

test('import a folder, label with the keyboard, undo, reload, export an audiofolder', async ({ page, host, tmp }) => {
  // A new speaker's folder: real WAVs from the demo corpus, each with a transcript sidecar.
  const incoming = path.join(tmp, 'incoming');
  const wavs = copyDemoClips('spk_a', path.join(incoming, 'newspk'), 3);
  const transcripts = wavs.map((_, i) => `New speaker, line ${i + 1}: "quoted", with commas.`);
  wavs.forEach((w, i) => fs.writeFileSync(w.replace(/\.wav$/, '.txt'), transcripts[i]!));

  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const status = page.getByRole('contentinfo');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 0 / total 36');

  // The annotator's name goes into every label they make (and into the export).
  const annotator = page.getByRole('textbox', { name: 'Annotator' });
  await annotator.fill('e2e-tester');
  const renamed = page.waitForResponse((r) => r.url().endsWith('/api/setAnnotator') && r.ok());
  await annotator.press('Enter');
  await renamed;

  // Import through the dialog; the report shows, the list grows.
  await page.getByRole('button', { name: 'Import…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import audio' });
  await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(incoming);
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  const report = dialog.getByRole('region', { name: 'Import report' });
  await expect(report.getByTestId('count-recordings-added')).toHaveText('3');
  await expect(report.getByTestId('count-utterances-added')).toHaveText('3');
  await expect(report.getByTestId('count-failed')).toHaveText('0');
  await expect(report).toContainText('Every file was imported.');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText('39 utterances', { exact: true })).toBeVisible();
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 0 / total 39');
  await expect(list.getByRole('option')).not.toHaveCount(0);

  // Only the new speaker: the first of its rows is selected.
  await page.getByRole('combobox', { name: 'Filter by speaker' }).selectOption('newspk');
  const options = list.getByRole('option');
  await expect(options).toHaveCount(3);
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  const names = await options.evaluateAll((els) => els.map((e) => e.querySelector('.file')!.textContent!.trim()));
  expect(names).toEqual(['spk_a_01.wav', 'spk_a_02.wav', 'spk_a_03.wav']);

  // Click into the list (the first row), then keyboard only: 2/3/4 label and advance; Ctrl+Z undoes.
  await options.nth(0).click();
  await expect(list).toBeFocused();
  await page.keyboard.press('2');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('3');
  await expect(options.nth(2)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('4');
  await expect(options.nth(2)).toHaveAttribute('data-label', 'sad');
  await expect(status.getByTestId('save-state')).toHaveText('All changes saved');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 3 / total 39');

  await page.keyboard.press('Control+z');
  await expect(options.nth(2)).toHaveAttribute('data-label', '');
  await expect(options.nth(2)).toHaveAttribute('aria-selected', 'true');
  await expect(options.nth(0)).toHaveAttribute('data-label', 'happy');
  await expect(options.nth(1)).toHaveAttribute('data-label', 'angry');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 2 / total 39');
  await expect(status.getByTestId('save-state')).toHaveText('All changes saved');

  // After a reload, exactly the two remaining labels are there.
  await page.reload();
  await expect(list.getByRole('option').first()).toBeVisible();
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 2 / total 39');
  await page.getByRole('button', { name: 'Labelled', exact: true }).click();
  await expect(options).toHaveCount(2);
  const labelled = await options.evaluateAll((els) =>
    els.map((e) => [e.querySelector('.file')!.textContent!.trim(), e.getAttribute('data-label')]),
  );
  expect(labelled.sort()).toEqual([
    ['spk_a_01.wav', 'happy'],
    ['spk_a_02.wav', 'angry'],
  ]);
  await expect(page.getByRole('textbox', { name: 'Annotator' })).toHaveValue('e2e-tester');

  // Export an audiofolder through the dialog.
  const out = path.join(tmp, 'export');
  await page.getByRole('button', { name: 'Export…' }).click();
  const exportDialog = page.getByRole('dialog', { name: 'Export dataset' });
  await exportDialog.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await exportDialog.getByRole('combobox', { name: 'Format' }).selectOption('audiofolder');
  await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
  const summary = exportDialog.getByRole('region', { name: 'Export summary' });
  await expect(summary).toContainText('2 labelled utterance(s) exported');

  // Every split's metadata.csv, together, holds exactly the two labelled utterances.
  const splits = fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, 'metadata.csv')));
  expect(splits.length).toBeGreaterThan(0);
  const rows = splits.flatMap((split) =>
    parseCsv(fs.readFileSync(path.join(out, split, 'metadata.csv'), 'utf8')).map((r): Record<string, string> => ({
      split,
      ...r,
    })),
  );
  const expected = [
    { stem: 'spk_a_01', label: 'happy', index: 0 },
    { stem: 'spk_a_02', label: 'angry', index: 1 },
  ];
  expect(rows).toHaveLength(expected.length);
  for (const e of expected) {
    const row = rows.find((r) => r.file_name!.endsWith(`_${e.stem}.wav`));
    expect(row, `a metadata row for ${e.stem}`).toBeDefined();
    expect(row!.file_name).toMatch(new RegExp(`^\\d{6}_${e.stem}\\.wav$`));
    expect(row).toMatchObject({
      label: e.label,
      text: transcripts[e.index],
      speaker: 'newspk',
      start: '0',
      annotator: 'e2e-tester',
    });
    expect(Number(row!.end)).toBeCloseTo(round3(wavDuration(wavs[e.index]!)), 3);
    expect(fs.statSync(path.join(out, row!.split!, row!.file_name!)).size).toBeGreaterThan(44);
  }
  expect(Object.keys(rows[0]!).slice(1)).toEqual([
    'file_name',
    'label',
    'text',
    'speaker',
    'start',
    'end',
    'annotator',
    'valence',
    'arousal',
    'dominance',
    'note',
    'unsure',
    'annotated_at',
    'consensus_label',
    'votes',
    'soft_label',
    'num_annotators',
    'item_agreement',
    'adjudicated',
  ]);
});

test('redo, clear, the toolbar buttons, and ratings with a note survive a reload', async ({ page, host }) => {
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const options = list.getByRole('option');
  const panel = page.getByRole('region', { name: 'Waveform' });
  await options.first().click();

  // Label without advancing, then clear it with 0 and undo the clear.
  await page.getByRole('checkbox', { name: 'Auto-advance' }).uncheck();
  await list.focus();
  await page.keyboard.press('3');
  await expect(options.first()).toHaveAttribute('data-label', 'angry');
  await expect(page.getByRole('button', { name: /^angry/ })).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('0');
  await expect(options.first()).toHaveAttribute('data-label', '');
  await page.keyboard.press('Control+z');
  await expect(options.first()).toHaveAttribute('data-label', 'angry');
  await page.keyboard.press('Control+Shift+z');
  await expect(options.first()).toHaveAttribute('data-label', '');
  await page.keyboard.press('Control+z');
  await expect(options.first()).toHaveAttribute('data-label', 'angry');
  await page.keyboard.press('Backspace');
  await expect(options.first()).toHaveAttribute('data-label', '');
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(options.first()).toHaveAttribute('data-label', 'angry');
  await page.getByRole('button', { name: 'Redo' }).click();
  await expect(options.first()).toHaveAttribute('data-label', '');
  await page.keyboard.press('Control+y');
  await expect(page.getByRole('contentinfo')).toContainText('Nothing to redo');

  // Label buttons and the Next/Previous buttons.
  await page.getByRole('button', { name: /^sad/ }).click();
  await expect(options.first()).toHaveAttribute('data-label', 'sad');
  await panel.getByRole('button', { name: 'Next utterance' }).click();
  await expect(panel).toContainText('2 / 36');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await panel.getByRole('button', { name: 'Previous utterance' }).click();
  await expect(panel).toContainText('1 / 36');

  // Ratings save at once, the note after a pause in typing.
  await page.getByRole('radio', { name: 'Valence 4' }).check();
  await page.getByRole('radio', { name: 'Dominance 2' }).check();
  await page.getByRole('textbox', { name: 'Note' }).fill('Sarcastic rather than sad.');
  await expect(page.getByTestId('utterance-save-state')).toHaveText('Saved');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');

  await page.reload();
  await expect(options.first()).toHaveAttribute('data-label', 'sad');
  await expect(page.getByRole('radio', { name: 'Valence 4' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Dominance 2' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Arousal 1' })).not.toBeChecked();
  await expect(page.getByRole('textbox', { name: 'Note' })).toHaveValue('Sarcastic rather than sad.');
  await expect(page.getByRole('checkbox', { name: 'Auto-advance' })).not.toBeChecked();
});
