import fs from 'node:fs';
import path from 'node:path';
import { expect, openStudio, REPO_ROOT, snap, test } from './fixtures';

const background = (page: import('@playwright/test').Page) =>
  page
    .locator('.sidebar')
    .evaluate(
      (el) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el)
          .backgroundColor,
    );
const LIGHT_PANEL = 'rgb(255, 255, 255)';
const DARK_PANEL = 'rgb(23, 28, 36)';

test('the theme follows the OS setting until one is chosen, and the choice is kept', async ({ page, host }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openStudio(page, host);
  await expect.poll(() => background(page)).toBe(DARK_PANEL);
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(() => background(page)).toBe(LIGHT_PANEL);

  const button = page.getByRole('button', { name: /^Theme:/ });
  await expect(button).toHaveAccessibleName('Theme: as the system');
  await button.click(); // light, whatever the OS says
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(button).toHaveAccessibleName('Theme: light');
  await expect.poll(() => background(page)).toBe(LIGHT_PANEL);
  await button.click(); // dark
  await expect(button).toHaveAccessibleName('Theme: dark');
  await expect.poll(() => background(page)).toBe(DARK_PANEL);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Theme: dark' })).toBeVisible();
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(() => background(page)).toBe(DARK_PANEL);
  await page.getByRole('button', { name: 'Theme: dark' }).click(); // back to the system's
  await expect.poll(() => background(page)).toBe(LIGHT_PANEL);
});

/**
 * Screenshots of both themes at the largest and the smallest supported size (test-results/screenshots;
 * `UPDATE_DOCS_SCREENSHOTS=1` also refreshes the copies in docs/screenshots that the README links).
 */
for (const scheme of ['light', 'dark'] as const) {
  for (const [width, height] of [
    [1440, 900],
    [1024, 640],
  ] as const) {
    test(`screenshot: ${scheme} theme at ${width}×${height}`, async ({ page, host }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height });
      await openStudio(page, host);
      const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
      await options.nth(0).click();
      await page.keyboard.press('2');
      await page.keyboard.press('3');
      await options.nth(2).click();
      await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
      await page.getByRole('radio', { name: 'Valence 4' }).check();
      await options.nth(2).click();
      await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
      // Checking the rating scrolled the detail pane at the small size: show it from its top.
      await page.getByRole('button', { name: 'Play' }).evaluate((el) => {
        for (let node = el.parentElement; node; node = node.parentElement) node.scrollTop = 0;
      });
      await page.waitForTimeout(300);
      const file = await snap(page, `theme-${scheme}-${width}x${height}`);
      // The README's copies are refreshed on request only, so a test run leaves the tree clean.
      if (process.env.UPDATE_DOCS_SCREENSHOTS) {
        const docs = path.join(REPO_ROOT, 'docs', 'screenshots');
        fs.mkdirSync(docs, { recursive: true });
        fs.copyFileSync(file, path.join(docs, `${scheme}-${width}x${height}.png`));
      }
    });
  }
}
