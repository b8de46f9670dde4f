import type { Page } from '@playwright/test';
import { expect, openStudio, snap, test, type StudioHost, expectAccessible } from './fixtures';

/** Issue 10: unsure / skip (U), transcripts and speakers edited in place, rebindable keys. */

/** The row as the core has it (the SQLite file behind the host), through the API. */
async function rowOf(page: Page, host: StudioHost, id: number, search = '') {
  const res = await page.request.post(`${host.origin}/api/listUtterances`, { data: { search } });
  const { rows } = (await res.json()) as {
    rows: { id: number; unsure: boolean; transcript: string; speaker: string | null }[];
  };
  return rows.find((r) => r.id === id) ?? null;
}

for (const scheme of ['light', 'dark'] as const) {
  test(`${scheme}: U flags unsure on the row and in the detail view, the Unsure filter keeps the list focused`, async ({
    page,
    host,
  }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await openStudio(page, host);
    const list = page.getByRole('listbox', { name: 'Utterances' });
    const options = list.getByRole('option');
    await options.nth(1).click();
    const id = Number(await options.nth(1).getAttribute('data-utterance-id'));
    const toggle = page.getByRole('button', { name: /Unsure \/ skip/ });
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');

    await page.keyboard.press('u');
    await expect(options.nth(1)).toHaveAttribute('data-unsure', 'true');
    await expect(options.nth(1)).toContainText('Unsure');
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('unsure-flag')).toBeVisible();
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    expect((await rowOf(page, host, id))?.unsure).toBe(true);
    // U does not move on: the same row stays selected.
    await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');

    // Filter: only the flagged row, and the list keeps the keyboard.
    await page.getByRole('button', { name: 'Unsure', exact: true }).click();
    await expect(page.getByText('1 of 36 utterances')).toBeVisible();
    await expect(list).toBeFocused();
    await snap(page, `unsure-${scheme}`);
    await expectAccessible(page, `unsure filter (${scheme})`);
    // So does a select: choosing a speaker gives the keyboard back to the list.
    await page.getByRole('combobox', { name: 'Filter by speaker' }).selectOption({ index: 1 });
    await expect(list).toBeFocused();
    await page.getByRole('button', { name: 'Clear filters' }).click();

    // Ctrl+Z undoes the flag; the button and U say it again.
    await list.locator(`[data-utterance-id="${id}"]`).click();
    await page.keyboard.press('Control+z');
    await expect(list.locator(`[data-utterance-id="${id}"]`)).toHaveAttribute('data-unsure', 'false');
    await toggle.click();
    await expect(list.locator(`[data-utterance-id="${id}"]`)).toHaveAttribute('data-unsure', 'true');
    await page.reload();
    await expect(
      page.getByRole('listbox', { name: 'Utterances' }).locator(`[data-utterance-id="${id}"]`),
    ).toHaveAttribute('data-unsure', 'true');
  });
}

test('transcript and speaker edited in place: saved, searchable, undone with Ctrl+Z', async ({ page, host }) => {
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const first = list.getByRole('option').first();
  await first.click();
  const id = Number(await first.getAttribute('data-utterance-id'));
  const original = (await rowOf(page, host, id))!;

  await page.getByTestId('edit-transcript').click();
  const field = page.getByRole('textbox', { name: 'Edit the transcript' });
  await expect(field).toBeFocused();
  await expect(field).toHaveValue(original.transcript);
  await field.fill('A quokka waved at the annotator');
  // Keys typed here are text, not shortcuts (J, U, digits).
  await page.keyboard.type(' 2uj');
  await page.keyboard.press('Enter');
  await expect(first).toContainText('A quokka waved at the annotator 2uj');
  await expect(page.getByTestId('edit-transcript')).toBeFocused();
  await expect(first).toHaveAttribute('data-label', '');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  expect((await rowOf(page, host, id))?.transcript).toBe('A quokka waved at the annotator 2uj');

  await page.getByTestId('edit-speaker').click();
  await page.getByRole('textbox', { name: 'Edit the speaker' }).fill('narrator_q');
  await page.getByRole('textbox', { name: 'Edit the speaker' }).press('Enter');
  await expect(first).toContainText('narrator_q');
  await snap(page, 'edit-in-place');

  // Escape leaves without saving.
  await page.getByTestId('edit-transcript').click();
  await page.getByRole('textbox', { name: 'Edit the transcript' }).fill('discard me');
  await page.keyboard.press('Escape');
  await expect(list).toBeFocused();
  await expect(first).toContainText('A quokka waved');

  // Search covers transcripts, speakers and notes.
  const search = page.getByRole('searchbox', { name: 'Search transcripts' });
  await search.fill('quokka');
  await expect(page.getByText('1 of 36 utterances')).toBeVisible();
  await search.fill('narrator_q');
  await expect(page.getByText('1 of 36 utterances')).toBeVisible();
  await search.press('Escape');
  await list.getByRole('option').nth(2).click();
  await expect(page.getByRole('textbox', { name: 'Note' })).toBeEnabled();
  await page.keyboard.press('n');
  await page.keyboard.type('breathy laugh at the end');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
  await search.fill('breathy');
  await expect(page.getByText('1 of 36 utterances')).toBeVisible();
  await search.press('Escape');

  // Ctrl+Z walks back: the note, the speaker, then the transcript.
  await list.locator(`[data-utterance-id="${id}"]`).click();
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  await expect(list.locator(`[data-utterance-id="${id}"]`)).not.toContainText('narrator_q');
  await page.keyboard.press('Control+z');
  await expect(list.locator(`[data-utterance-id="${id}"]`)).toContainText(original.transcript);
  await expect.poll(async () => (await rowOf(page, host, id))?.transcript).toBe(original.transcript);
  await page.keyboard.press('Control+Shift+z');
  await expect(list.locator(`[data-utterance-id="${id}"]`)).toContainText('A quokka waved');
});

for (const scheme of ['light', 'dark'] as const) {
  test(`${scheme}: keys are rebound in the shortcut overlay, a taken key is refused by name, and it persists`, async ({
    page,
    host,
  }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await openStudio(page, host);
    const list = page.getByRole('listbox', { name: 'Utterances' });
    await list.getByRole('option').first().click();
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect(dialog).toBeVisible();
    const change = dialog.getByRole('button', { name: 'Change the key of: Next utterance' });
    await change.click();
    await expect(dialog.getByRole('button', { name: /Press the new key for: Next utterance/ })).toBeFocused();
    await page.keyboard.press('k');
    await expect(dialog.getByTestId('rebind-message')).toHaveText('K is already bound to “Previous utterance”');
    await change.click();
    await page.keyboard.press('x');
    await expect(dialog.getByTestId('rebind-message')).toHaveText('Next utterance: X');
    const row = dialog.locator('[data-action="next"]');
    await expect(row.locator('kbd').first()).toHaveText('X');
    await expect(dialog).toBeVisible();
    await snap(page, `rebind-keys-${scheme}`);
    await expectAccessible(page, `shortcut settings (${scheme})`);
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();

    // The status bar's key hints follow the binding.
    await expect(page.getByTestId('key-hints')).toContainText('X/K next/prev');

    // X moves on, J no longer does.
    const panel = page.getByRole('region', { name: 'Waveform' });
    await list.getByRole('option').first().click();
    await page.keyboard.press('x');
    await expect(panel).toContainText('2 / 36');
    await page.keyboard.press('j');
    await expect(panel).toContainText('2 / 36');

    // Kept after a reload; reset puts J back.
    await page.reload();
    await page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first().click();
    await page.keyboard.press('x');
    await expect(panel).toContainText('2 / 36');
    await page.keyboard.press('?');
    await dialog.getByRole('button', { name: 'Reset keys to defaults' }).click();
    await expect(dialog.locator('[data-action="next"] kbd').first()).toHaveText('J');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('key-hints')).toContainText('J/K next/prev');
    await page.keyboard.press('j');
    await expect(panel).toContainText('3 / 36');
  });
}
