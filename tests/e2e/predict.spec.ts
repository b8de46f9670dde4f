import fs from 'node:fs';
import path from 'node:path';
import { expect, openStudio, parseCsv, snap, test } from './fixtures';

test('run the demo model, review predictions, sort by uncertainty, accept with Enter, export', async ({
  page,
  host,
  tmp,
}) => {
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const options = list.getByRole('option');
  const status = page.getByRole('contentinfo');
  const panel = page.getByRole('region', { name: 'Model prediction' });

  // Before a run: no predicted chips, and the panel says so.
  await expect(list.locator('[data-origin="model"]')).toHaveCount(0);
  await expect(panel).toContainText('No prediction for this utterance yet');

  // Run model: whole project, device auto.
  await page.getByRole('banner').getByRole('button', { name: 'Run model…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Run model' });
  await expect(dialog.getByRole('combobox', { name: 'Model' })).toHaveValue(/\d+/);
  await expect(dialog.getByRole('combobox', { name: 'Model' }).locator('option:checked')).toContainText(
    'wavfusion-demo',
  );
  // A folder that is not a bundle: the core's validation message is shown.
  await dialog.getByRole('button', { name: 'Add model bundle…' }).click();
  await dialog.getByRole('textbox', { name: 'Model bundle folder' }).fill(tmp);
  await dialog.getByRole('button', { name: 'Add model', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('model.json');
  await dialog.getByRole('button', { name: 'Add model bundle…' }).click();

  await expect(dialog.getByRole('radio', { name: /Whole project \(36\)/ })).toBeChecked();
  await dialog.getByRole('combobox', { name: 'Device' }).selectOption('auto');
  await dialog.getByRole('button', { name: 'Run model', exact: true }).click();
  const report = dialog.getByRole('region', { name: 'Model run report' });
  await expect(report).toBeVisible({ timeout: 45_000 });
  await expect(report.getByTestId('count-predicted')).toHaveText('36');
  await expect(report.getByTestId('count-failed')).toHaveText('0');
  await expect(report).toContainText('real time');
  await snap(page, 'run-model');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  await expect(status.getByRole('progressbar')).toBeHidden();

  // The status bar names the model and where it ran; the list shows predicted chips.
  const modelStatus = status.getByTestId('model-status');
  await expect(modelStatus).toContainText('wavfusion-demo');
  await expect(modelStatus).toHaveAttribute('title', /Inference ran on/);
  await expect(options.first()).not.toHaveAttribute('data-predicted', '');
  await expect(list.locator('[data-origin="model"]').first()).toBeVisible();

  // The prediction panel: four class bars that sum to about 100%.
  await options.first().click();
  const bars = panel.getByRole('list', { name: 'Class probabilities' }).getByRole('listitem');
  await expect(bars).toHaveCount(4);
  const probabilities = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-probability'))));
  expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
  await expect(panel).toContainText('Text gate');

  // Sort by uncertainty: the least certain come first, so the order changes.
  const order = () => options.evaluateAll((els) => els.map((e) => e.getAttribute('data-utterance-id')));
  const fileOrder = await order();
  await page.getByRole('combobox', { name: 'Sort' }).selectOption('uncertainty');
  await expect.poll(order).not.toEqual(fileOrder);

  // Correct two labels with hotkeys (auto-advance), then accept the third's prediction with Enter.
  await options.first().click();
  await expect(list).toBeFocused();
  const ids = (await order()).slice(0, 4);
  const names = await options.evaluateAll((els) =>
    els.slice(0, 3).map((e) => e.querySelector('.file')!.textContent!.trim()),
  );
  await page.keyboard.press('3');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('4');
  await expect(options.nth(2)).toHaveAttribute('aria-selected', 'true');
  await expect(panel.getByRole('list', { name: 'Class probabilities' })).toBeVisible();
  const shown = (await panel.getByTestId('predicted-label').textContent())!.trim();
  await expect(options.nth(2)).toHaveAttribute('data-predicted', shown);
  await page.keyboard.press('Enter');
  await expect(options.nth(3)).toHaveAttribute('aria-selected', 'true');
  await expect(status.getByTestId('save-state')).toHaveText('All changes saved');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 3 / total 36');
  const byId = (id: string | null) => list.locator(`[data-utterance-id="${id}"]`);
  await expect(byId(ids[0]!)).toHaveAttribute('data-label', 'angry');
  await expect(byId(ids[1]!)).toHaveAttribute('data-label', 'sad');
  await expect(byId(ids[2]!)).toHaveAttribute('data-label', shown);
  await expect(byId(ids[2]!).locator('[data-origin="human"]')).toHaveText(shown);

  // Enter does nothing while typing in a field.
  const search = page.getByRole('searchbox', { name: 'Search transcripts' });
  await search.focus();
  await search.press('Enter');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 3 / total 36');

  // The disagreement filter lists only labelled utterances whose label differs from the model's.
  const listed = () => page.waitForResponse((r) => r.url().includes('/api/listUtterances') && r.ok());
  let reloaded = listed();
  await page.getByRole('button', { name: 'Disagreement' }).click();
  await expect(page.getByRole('button', { name: 'Disagreement' })).toHaveAttribute('aria-pressed', 'true');
  await reloaded;
  await expect(page.getByText(/^[0-2] of 36 utterances$/)).toBeVisible();
  const disagreeing = await options.evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-predicted')]),
  );
  expect(disagreeing.length).toBeLessThanOrEqual(2);
  for (const [label, predicted] of disagreeing) expect(label).not.toEqual(predicted);
  await page.getByRole('button', { name: 'Disagreement' }).click();

  // Low confidence: every listed prediction is below the threshold.
  reloaded = listed();
  await page.getByRole('combobox', { name: 'Low confidence' }).selectOption('0.6');
  await reloaded;
  await expect(options.first()).toBeVisible();
  const lowNames = await options.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  for (const name of lowNames) {
    const pct = /predicted \S+ (\d+)%/.exec(name);
    if (pct) expect(Number(pct[1])).toBeLessThan(60);
  }
  await page.getByRole('combobox', { name: 'Low confidence' }).selectOption('');

  // A screenshot with predictions: file order, an unlabelled utterance selected, predicted chips.
  await page.getByRole('combobox', { name: 'Sort' }).selectOption('recording');
  await list.getByRole('option', { name: /^spk_a_05\.wav/ }).click();
  await expect(panel.getByRole('list', { name: 'Class probabilities' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  await list.focus();
  await snap(page, 'predictions');

  // Export: exactly the three labels, the accepted one as predicted, with the model's columns.
  const out = path.join(tmp, 'export');
  await page.getByRole('button', { name: 'Export…' }).click();
  const exportDialog = page.getByRole('dialog', { name: 'Export dataset' });
  await exportDialog.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await exportDialog.getByRole('combobox', { name: 'Format' }).selectOption('audiofolder');
  const withPredictions = exportDialog.getByRole('checkbox', { name: /prediction and scores as columns/ });
  await expect(withPredictions).not.toBeChecked();
  await withPredictions.check();
  await expect(exportDialog.getByTestId('prediction-columns-note')).toContainText('prob_<label>');
  await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(exportDialog.getByRole('region', { name: 'Export summary' })).toContainText(
    '3 labelled utterance(s) exported',
  );
  const splits = fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, 'metadata.csv')));
  const rows = splits.flatMap((split) => parseCsv(fs.readFileSync(path.join(out, split, 'metadata.csv'), 'utf8')));
  expect(rows.map((r) => r.label).sort()).toEqual(['angry', 'sad', shown].sort());
  const expected = [
    [names[0]!, 'angry'],
    [names[1]!, 'sad'],
    [names[2]!, shown],
  ];
  for (const [file, label] of expected) {
    const stem = file!.replace(/\.wav$/, '');
    expect(rows.find((r) => r.file_name!.endsWith(`_${stem}.wav`))?.label, `the label of ${file}`).toBe(label);
  }
  // The model's columns: the accepted row's prediction is its label; each predicted_prob is the top prob_*.
  const accepted = rows.find((r) => r.file_name!.endsWith(`_${names[2]!.replace(/\.wav$/, '')}.wav`))!;
  expect(accepted.predicted_label).toBe(shown);
  for (const r of rows) {
    expect([r.model_name, r.model_version]).toEqual(['wavfusion-demo', expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
    const probs = ['neutral', 'happy', 'angry', 'sad'].map((l) => Number(r[`prob_${l}`]));
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(Number(r.predicted_prob)).toBe(Math.max(...probs));
  }
});
