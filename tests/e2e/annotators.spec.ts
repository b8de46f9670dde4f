import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, openStudio, parseCsv, snap, test } from './fixtures';

/** Switches the session's annotator through the header field. */
async function becomes(page: Page, name: string) {
  const field = page.getByRole('textbox', { name: 'Annotator' });
  await field.fill(name);
  const changed = page.waitForResponse((r) => r.url().endsWith('/api/setAnnotator') && r.ok());
  await field.press('Enter');
  await changed;
}

test('three annotators label blind, the agreement report shows, an adjudicator settles, the export has soft labels', async ({
  page,
  host,
  tmp,
}) => {
  await openStudio(page, host);
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');

  // The team: three annotators and an adjudicator; 3 labels per utterance turns blind mode on.
  await page.getByRole('button', { name: 'Team: annotators, agreement, adjudication' }).click();
  const team = page.getByRole('dialog', { name: 'Team: annotators, agreement, adjudication' });
  for (const [name, role] of [
    ['ann1', 'annotator'],
    ['ann2', 'annotator'],
    ['ann3', 'annotator'],
    ['judge', 'adjudicator'],
  ] as const) {
    await team.getByRole('textbox', { name: "New annotator's name" }).fill(name);
    await team.getByRole('combobox', { name: "New annotator's role" }).selectOption(role);
    await team.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(team.getByRole('cell', { name, exact: true })).toBeVisible();
  }
  const k = team.getByRole('spinbutton', { name: 'Labels per utterance' });
  await k.fill('3');
  await k.press('Tab');
  await expect(team.getByRole('checkbox', { name: /Blind/ })).toBeChecked();
  await team.getByRole('button', { name: 'Close' }).click();

  // Each labels the first two utterances: all say happy on the first, three different labels on the second.
  for (const [name, second] of [
    ['ann1', '2'],
    ['ann2', '3'],
    ['ann3', '4'],
  ] as const) {
    await becomes(page, name);
    await options.first().click();
    await page.keyboard.press('2');
    await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press(second);
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  }

  // The adjudicator: the report, then the queue with the one disagreement.
  await becomes(page, 'judge');
  await page.getByRole('button', { name: 'Team: annotators, agreement, adjudication' }).click();
  await team.getByRole('tab', { name: 'Agreement' }).click();
  await expect(team.locator('[data-stat="alpha"]')).toHaveText(/^-?\d\.\d\d/);
  await expect(team.getByRole('table', { name: "Cohen's kappa per pair of annotators" })).toBeVisible();
  await expect(team).toContainText('1 agreed, 1 disagreed, 0 adjudicated');
  await snap(page, 'agreement-report');

  await team.getByRole('tab', { name: 'Adjudication' }).click();
  const given = team.getByRole('table', { name: 'Labels given' });
  await expect(given.getByRole('row')).toHaveCount(4);
  await expect(given).toContainText('happy');
  await expect(given).toContainText('angry');
  await expect(given).toContainText('sad');
  await team.getByRole('combobox', { name: 'Final label' }).selectOption({ label: 'angry' });
  await team.getByRole('textbox', { name: 'Reason' }).fill('raised voice throughout');
  await team.getByRole('button', { name: 'Settle' }).click();
  await expect(team).toContainText('No disagreement waits for adjudication.');
  await team.getByRole('button', { name: 'Close' }).click();

  // The export carries the consensus, the votes and the soft label.
  const out = path.join(tmp, 'export');
  await page.getByRole('button', { name: 'Export…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export dataset' });
  await dialog.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await dialog.getByRole('combobox', { name: 'Format' }).selectOption('csv');
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect.poll(() => fs.existsSync(path.join(out, 'dataset.csv'))).toBe(true);
  const rows = parseCsv(fs.readFileSync(path.join(out, 'dataset.csv'), 'utf8'));
  const byConsensus = Object.fromEntries(rows.map((r) => [r.consensus_label, r]));
  expect(byConsensus.happy).toMatchObject({
    votes: '[0,3,0,0]',
    soft_label: '[0,1,0,0]',
    num_annotators: '3',
    adjudicated: 'false',
  });
  expect(byConsensus.angry).toMatchObject({
    votes: '[0,1,1,1]',
    soft_label: '[0,0.333333,0.333333,0.333333]',
    num_annotators: '3',
    adjudicated: 'true',
  });
});
