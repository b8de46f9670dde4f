import type { Page } from '@playwright/test';
import { SHORTCUTS } from '../../src/renderer/src/lib/util/shortcuts';
import { expect, openStudio, snap, test, type StudioHost } from './fixtures';

/** Runs the active (demo) model over the project through the API and waits for the job to end. */
async function predictAll(page: Page, host: StudioHost): Promise<void> {
  const started = await page.request.post(`${host.origin}/api/startPrediction`, { data: {} });
  expect(started.ok()).toBe(true);
  const { jobId } = (await started.json()) as { jobId: string };
  await expect
    .poll(
      async () => {
        const jobs = (await (await page.request.post(`${host.origin}/api/listJobs`, { data: {} })).json()) as {
          id: string;
          state: string;
        }[];
        return jobs.find((j) => j.id === jobId)?.state;
      },
      { timeout: 60_000 },
    )
    .toBe('succeeded');
}

test('Escape in the search box clears the search and its filter', async ({ page, host }) => {
  await openStudio(page, host);
  const search = page.getByRole('searchbox', { name: 'Search transcripts' });
  await search.fill('library');
  await expect(page.getByText(/^\d of 36 utterances$/)).toBeVisible();
  await search.press('Escape');
  await expect(search).toHaveValue('');
  await expect(page.getByText('36 utterances', { exact: true })).toBeVisible();
  await expect(page.getByRole('listbox', { name: 'Utterances' })).toBeFocused();
  await expect(page.getByRole('button', { name: 'Clear filters' })).toBeHidden();
});

test('Home and End go to the first and last row', async ({ page, host }) => {
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const panel = page.getByRole('region', { name: 'Waveform' });
  await list.getByRole('option').first().click();
  await page.keyboard.press('End');
  await expect(panel).toContainText('36 / 36');
  await expect(list.getByRole('option', { selected: true })).toHaveAttribute('aria-posinset', '36');
  await page.keyboard.press('Home');
  await expect(panel).toContainText('1 / 36');
  await expect(list.getByRole('option', { selected: true })).toHaveAttribute('aria-posinset', '1');
});

test('digits never relabel from a focused rating; ratings have their own keys', async ({ page, host }) => {
  await openStudio(page, host);
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await options.first().click();
  await page.getByRole('radio', { name: 'Valence 3' }).check();
  await expect(page.getByRole('radio', { name: 'Valence 3' })).toBeFocused();
  await page.keyboard.press('2');
  await expect(page.getByRole('contentinfo')).toContainText('rate valence with Shift+1–5');
  await expect(options.first()).toHaveAttribute('data-label', '');
  await expect(options.first()).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('radio', { name: 'Valence 3' })).toBeChecked();

  // From the list: Shift, Alt and Alt+Shift with 1–5 rate valence, arousal and dominance.
  await options.first().click();
  await page.keyboard.press('Shift+Digit4');
  await page.keyboard.press('Alt+Digit2');
  await page.keyboard.press('Alt+Shift+Digit5');
  await expect(page.getByRole('radio', { name: 'Valence 4' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Arousal 2' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Dominance 5' })).toBeChecked();
  await expect(options.first()).toHaveAttribute('data-label', '');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  await page.keyboard.press('Shift+Digit0');
  await expect(page.getByRole('radio', { name: 'not rated' }).first()).toBeChecked();

  // N goes to the note; Escape leaves it, and the keys work again.
  await page.keyboard.press('n');
  await expect(page.getByRole('textbox', { name: 'Note' })).toBeFocused();
  await page.keyboard.type('hm');
  await page.keyboard.press('Escape');
  await page.keyboard.press('2');
  await expect(options.first()).toHaveAttribute('data-label', 'happy');
  await page.reload();
  await expect(options.first()).toHaveAttribute('data-label', 'happy');
  await options.first().click();
  await expect(page.getByRole('radio', { name: 'Arousal 2' })).toBeChecked();
  await expect(page.getByRole('textbox', { name: 'Note' })).toHaveValue('hm');
});

test('? shows every shortcut from the table that binds the keys', async ({ page, host }) => {
  await openStudio(page, host);
  await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('shortcut')).toHaveCount(SHORTCUTS.length);
  for (const s of SHORTCUTS) await expect(dialog).toContainText(s.description);
  await expect(dialog).toContainText('Alt+Shift+1–5');
  await snap(page, 'shortcuts');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('after a filter click Enter accepts the prediction; sorting by uncertainty selects the first row', async ({
  page,
  host,
}) => {
  await openStudio(page, host);
  await predictAll(page, host);
  await page.reload();
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const options = list.getByRole('option');
  await expect(options.first()).not.toHaveAttribute('data-predicted', '');

  // Select a row in the middle, then sort: the selection goes to the top (the least certain).
  await options.nth(5).click();
  await page.getByRole('combobox', { name: 'Sort' }).selectOption('uncertainty');
  await expect(list.getByRole('option', { selected: true })).toHaveAttribute('aria-posinset', '1');
  await expect(page.getByRole('region', { name: 'Waveform' })).toContainText('1 / 36');
  await expect(list).toBeFocused();

  // Click a filter button, then Enter: the prediction is accepted, the button is not pressed again.
  await page.getByRole('button', { name: 'Unlabelled', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Unlabelled', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect(list).toBeFocused();
  const first = list.getByRole('option', { selected: true });
  await expect(first).toHaveAttribute('aria-posinset', '1');
  const id = await first.getAttribute('data-utterance-id');
  const predicted = await first.getAttribute('data-predicted');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('contentinfo').getByTestId('labelled-count')).toHaveText('labelled 1 / total 36');
  await expect(page.getByRole('button', { name: 'Unlabelled', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: 'All', exact: true }).click();
  await expect(list.locator(`[data-utterance-id="${id}"]`)).toHaveAttribute('data-label', predicted!);
});
