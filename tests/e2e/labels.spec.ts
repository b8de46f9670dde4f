import { expect, openStudio, snap, test } from './fixtures';

test('a rename typed, then Tab, then Done is saved; so is one left with Escape', async ({ page, host }) => {
  await openStudio(page, host);
  await page.getByRole('button', { name: 'Labels…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Labels' });
  await dialog.getByRole('textbox', { name: 'Name of sad' }).fill('sadness');
  await page.keyboard.press('Tab');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  const bar = page.getByRole('group', { name: 'Labels' });
  await expect(bar.getByRole('button', { name: /^sadness/ })).toBeVisible();

  // Typed and left with Escape (no Tab, no Save): saved too.
  await page.getByRole('button', { name: 'Labels…' }).click();
  await dialog.getByRole('textbox', { name: 'Name of angry' }).fill('anger');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(bar.getByRole('button', { name: /^anger/ })).toBeVisible();

  await page.reload();
  await expect(bar.getByRole('button', { name: /^sadness/ })).toBeVisible();
  await expect(bar.getByRole('button', { name: /^anger/ })).toBeVisible();
  await page.getByRole('button', { name: 'Labels…' }).click();
  await expect(dialog.getByRole('textbox', { name: 'Name of sadness' })).toHaveValue('sadness');
});

test('labels in use cannot be deleted, and say why before the click', async ({ page, host }) => {
  await openStudio(page, host);
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await options.first().click();
  await page.keyboard.press('3');
  await expect(options.first()).toHaveAttribute('data-label', 'angry');
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');

  await page.getByRole('button', { name: 'Labels…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Labels' });
  const deleteAngry = dialog.getByRole('button', { name: 'Delete angry' });
  await expect(deleteAngry).toBeDisabled();
  await expect(deleteAngry).toHaveAccessibleDescription(/In use by 1 annotation/);
  await expect(dialog.locator('[title^="In use by 1 annotation"]')).toHaveCount(1);
  const deleteSad = dialog.getByRole('button', { name: 'Delete sad' });
  await expect(deleteSad).toBeEnabled();
  await snap(page, 'labels-in-use');
  await deleteSad.click();
  await expect(dialog.getByRole('textbox', { name: 'Name of sad' })).toBeHidden();
});
