import type { Page } from '@playwright/test';
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
});
