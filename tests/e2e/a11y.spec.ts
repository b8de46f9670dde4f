import { expect, openStudio, test, expectAccessible } from './fixtures';

/** axe-core on a view: WCAG 2.1 A/AA rules; serious and critical findings fail, with what and where. */

for (const scheme of ['light', 'dark'] as const) {
  test(`${scheme} theme: the main view, its dialogs and the shortcut overlay have no serious accessibility violations`, async ({
    page,
    host,
  }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await openStudio(page, host);
    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await options.first().click();
    await page.keyboard.press('3'); // a labelled row, a selected row, a solid chip
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
    await expectAccessible(page, `main view (${scheme})`);

    await page.getByRole('button', { name: 'Unlabelled', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Clear filters' })).toBeVisible();
    await expectAccessible(page, 'main view, filtered');

    for (const [button, dialog] of [
      ['Labels…', 'Labels'],
      ['Export…', 'Export dataset'],
      ['Import…', 'Import audio'],
      ['Run model…', 'Run model'],
    ] as const) {
      await page.getByRole('banner').getByRole('button', { name: button }).click();
      await expect(page.getByRole('dialog', { name: dialog })).toBeVisible();
      await expectAccessible(page, `${dialog} dialog`, 'dialog[open]');
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog', { name: dialog })).toBeHidden();
    }

    await options.first().click();
    await page.keyboard.press('?');
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
    await expectAccessible(page, 'shortcut overlay', 'dialog[open]');
  });
}
