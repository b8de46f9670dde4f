import type { Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { expect, openStudio, snap, test, expectAccessible } from './fixtures';

/** Switches the session's annotator through the header field. */
async function becomes(page: Page, name: string) {
  const field = page.getByRole('textbox', { name: 'Annotator' });
  await field.fill(name);
  const changed = page.waitForResponse((r) => r.url().endsWith('/api/setAnnotator') && r.ok());
  await field.press('Enter');
  await changed;
}

test('the list shows each row’s team state, blind until labelled, and filters "disputed" per annotator', async ({
  page,
  host,
  tmp,
}) => {
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const options = list.getByRole('option');

  // Three annotators, 2 labels per utterance (blind mode on by default).
  await page.getByRole('button', { name: 'Team: annotators, agreement, adjudication' }).click();
  const team = page.getByRole('dialog', { name: 'Team: annotators, agreement, adjudication' });
  for (const name of ['ann1', 'ann2', 'ann3']) {
    await team.getByRole('textbox', { name: "New annotator's name" }).fill(name);
    await team.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(team.getByRole('cell', { name, exact: true })).toBeVisible();
  }
  const k = team.getByRole('spinbutton', { name: 'Labels per utterance' });
  await k.fill('2');
  await k.press('Tab');
  await expect(team.getByRole('checkbox', { name: /Blind/ })).toBeChecked();
  await team.getByRole('button', { name: 'Close' }).click();

  // u0: all happy (agreed); u1: happy / angry / sad (disputed); u2: ann1 and ann2 differ, ann3 has not labelled.
  for (const [name, keys] of [
    ['ann1', ['2', '2', '2']],
    ['ann2', ['2', '3', '3']],
    ['ann3', ['2', '4']],
  ] as const) {
    await becomes(page, name);
    await options.first().click();
    for (const [i, key] of keys.entries()) {
      await expect(options.nth(i)).toHaveAttribute('aria-selected', 'true');
      await page.keyboard.press(key);
    }
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  }

  // ann3 sees u2's state hidden (blind), and u3 needs their label.
  await expect(options.nth(0)).toHaveAttribute('data-consensus', 'agreed');
  await expect(options.nth(0).getByTestId('team-state')).toHaveText('2/2 agreed');
  await expect(options.nth(1).getByTestId('team-state')).toHaveText('2/2 disputed');
  await expect(options.nth(2)).toHaveAttribute('data-consensus', 'hidden');
  await expect(options.nth(2).getByTestId('team-state')).toHaveText('2/2');
  await expect(options.nth(3).getByTestId('team-state')).toHaveText('0/2 needs you');

  const byTeam = page.getByRole('combobox', { name: "Filter by everyone's labels" });
  await byTeam.selectOption({ label: 'Disputed' });
  await expect(options).toHaveCount(1);
  await expect(options.first()).toHaveAttribute('data-consensus', 'disagreed');
  await expect(options.first()).toHaveAttribute('data-label', 'sad');

  // ann1 labelled u2 too: both disputes show; the filter stays.
  await becomes(page, 'ann1');
  await expect(options).toHaveCount(2);
  for (const i of [0, 1]) await expect(options.nth(i)).toHaveAttribute('data-consensus', 'disagreed');
  await expect(options.nth(0).getByTestId('team-state')).toHaveText('2/2 disputed');

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await snap(page, `annotators-list-disputed-${scheme}`);
    await expectAccessible(page, scheme);
  }

  // "Needs my label": ann1's queue is what they have not labelled.
  await byTeam.selectOption({ label: 'Needs my label' });
  await expect(options.first().getByTestId('team-state')).toHaveText('0/2 needs you');
  const listed = () => page.waitForResponse((r) => r.url().includes('/api/listUtterances') && r.ok());
  /** The ids in an annotator's queue (the filter stays on "Needs my label"), as the core answered and shown. */
  const queueOf = async (name: string) => {
    const reloaded = listed();
    await becomes(page, name);
    const { rows, filtered } = (await (await reloaded).json()) as { rows: { id: number }[]; filtered: number };
    await expect(page.getByText(new RegExp(`^${filtered} of \\d+ utterances$`))).toBeVisible();
    return rows.map((r) => r.id);
  };
  // ann2 labelled what ann1 did: before shares, the same queue.
  const before = await queueOf('ann2');
  expect(before.length).toBeGreaterThan(1);

  // Shares: ann1 labels everything, ann2 and ann3 half each. A share of 0 is refused and nothing changes.
  await page.getByRole('button', { name: 'Team: annotators, agreement, adjudication' }).click();
  const share = (name: string) =>
    team.getByRole('spinbutton', { name: `Share of ${name} (percent of the utterances)` });
  await expect(share('ann1')).toHaveValue('100');
  await share('ann3').fill('0');
  await share('ann3').press('Tab');
  await expect(team.getByRole('alert')).toContainText('A share must be more than 0 and at most 1');
  await expect(share('ann3')).toHaveValue('100');
  for (const name of ['ann2', 'ann3']) {
    const saved = page.waitForResponse((r) => r.url().endsWith('/api/setAnnotatorShare') && r.ok());
    await share(name).fill('50');
    await share(name).press('Tab');
    await saved;
  }
  await expect(team.getByTestId('share-note')).toContainText('now 2)');
  // 40% would leave 1.9 labels for the 2 each utterance needs: refused, the stored 50% stays.
  await share('ann3').fill('40');
  await share('ann3').press('Tab');
  await expect(team.getByRole('alert')).toContainText('shares add up to 1.9, fewer than the 2 labels needed');
  await expect(share('ann3')).toHaveValue('50');
  // (still in the dark scheme of the last screenshot above)
  await snap(page, 'annotators-shares-dark');
  await expectAccessible(page, 'dark');
  await team.getByRole('button', { name: 'Close' }).click();

  // ann1 (100%) keeps the whole queue; ann2 and ann3 split it (K = 2: ann1 and one of them per utterance).
  const ann3 = await queueOf('ann3');
  const ann2 = await queueOf('ann2');
  expect(await queueOf('ann1')).toEqual(before);
  expect(ann2.filter((id) => ann3.includes(id))).toEqual([]);
  expect([...ann2, ...ann3].sort((a, b) => a - b)).toEqual([...before].sort((a, b) => a - b));

  // Export with one row per annotator: u0 and u1 by all three, u2 by ann1 and ann2.
  const out = path.join(tmp, 'per-annotator');
  await page.getByRole('button', { name: 'Export…' }).click();
  const exporting = page.getByRole('dialog', { name: 'Export dataset' });
  await exporting.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await exporting.getByRole('combobox', { name: 'Format' }).selectOption('jsonl');
  await exporting.getByRole('checkbox', { name: /One row per annotator/ }).check();
  await exporting.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(exporting.getByRole('region', { name: 'Export summary' })).toContainText(
    '8 row(s), one per annotator of each labelled utterance, exported to',
  );
  const rows = fs
    .readFileSync(path.join(out, 'dataset.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { utterance_id: number; annotator: string; role: string; consensus_label: unknown });
  expect(rows.map((r) => r.annotator).sort()).toEqual(['ann1', 'ann1', 'ann1', 'ann2', 'ann2', 'ann2', 'ann3', 'ann3']);
  expect(new Set(rows.map((r) => r.utterance_id)).size).toBe(3);
  expect(rows.every((r) => r.role === 'annotator')).toBe(true);
  await exporting.getByRole('button', { name: 'Done' }).click();
});
