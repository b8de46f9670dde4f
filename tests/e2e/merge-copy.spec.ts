import type { Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, expectAccessible, openStudio, REPO_ROOT, snap, startHost, test } from './fixtures';

/** Switches the session's annotator through the header field. */
async function becomes(page: Page, name: string) {
  const field = page.getByRole('textbox', { name: 'Annotator' });
  await field.fill(name);
  const changed = page.waitForResponse((r) => r.url().endsWith('/api/setAnnotator') && r.ok());
  await field.press('Enter');
  await changed;
}

/** Labels the first rows of the list with the label keys given, in order (the selection advances). */
async function labelFirstRows(page: Page, keys: string[]) {
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  await options.first().click();
  for (const [i, key] of keys.entries()) {
    await expect(options.nth(i)).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press(key);
  }
  await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
}

/** `wavfusion <args>` through the built CLI, as a user runs it. */
function wavfusion(home: string, ...args: string[]) {
  const out = spawnSync(process.execPath, ['bin/wavfusion.mjs', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, WAVFUSION_HOME: home },
    timeout: 60_000,
  });
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return out.stdout;
}

test('Team → Merge a copy…: a copy handed out with the CLI and labelled on its own host is merged, reported and undone', async ({
  page,
  host,
  browser,
}) => {
  test.setTimeout(150_000);
  await openStudio(page, host);
  const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
  const project = path.join(host.home, 'demo.sqlite');
  expect(fs.existsSync(project)).toBe(true);

  // Hand out a copy for ana, beside the project (a folder the web picker may show).
  const copies = path.join(host.home, 'copies');
  fs.mkdirSync(copies);
  const copy = path.join(copies, 'ana.wfproj');
  const handout = JSON.parse(
    wavfusion(host.home, 'handout', '--project', project, '--out', copy, '--annotator', 'ana', '--json'),
  ) as { copy: string; annotator: string; utterances: number };
  expect(handout).toMatchObject({ copy, annotator: 'ana' });

  // Meanwhile ana labels the first row here: neutral. Her copy says happy later: a conflict the copy wins.
  await becomes(page, 'ana');
  await labelFirstRows(page, ['1']);
  await expect(options.nth(0)).toHaveAttribute('data-label', 'neutral');

  // ana labels in her copy, on a host of its own (its own browser context: the token cookie is per host name).
  const copyHost = await startHost({ project: copy });
  const apart = await browser.newContext();
  try {
    const copyPage = await apart.newPage();
    await openStudio(copyPage, copyHost);
    await expect(copyPage.getByRole('textbox', { name: 'Annotator' })).toHaveValue('ana');
    await labelFirstRows(copyPage, ['2', '3', '4']);
    const copyRows = copyPage.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await expect(copyRows.nth(0)).toHaveAttribute('data-label', 'happy');
    await expect(copyRows.nth(2)).toHaveAttribute('data-label', 'sad');
    await expect(copyPage.getByTestId('labelled-count')).toHaveText('labelled 3 / total 36');
  } finally {
    await apart.close().finally(() => copyHost.stop());
  }
  // Nothing of the copy is here yet.
  await expect(options.nth(0)).toHaveAttribute('data-label', 'neutral');
  await expect(options.nth(1)).toHaveAttribute('data-label', '');
  await expect(options.nth(2)).toHaveAttribute('data-label', '');

  // Team → Merge a copy…, the copy picked with the web picker.
  await page.getByRole('button', { name: 'Team: annotators, agreement, adjudication' }).click();
  const team = page.getByRole('dialog', { name: 'Team: annotators, agreement, adjudication' });
  await team.getByRole('button', { name: 'Merge a copy…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Merge a copy' });
  await expect(dialog).toBeVisible();
  const field = dialog.getByRole('textbox', { name: 'Copy to merge' });
  await expect(field).toBeFocused();
  await expect(dialog.getByRole('button', { name: 'Merge', exact: true })).toBeDisabled();
  // Escape in the picker closes the picker only.
  const browse = dialog.getByRole('button', { name: 'Browse for Copy to merge' });
  const picker = page.getByRole('dialog', { name: 'Copy to merge' });
  await browse.click();
  await expect(picker.getByRole('list', { name: /^Contents of / })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await expect(dialog).toBeVisible();
  await browse.click();
  // It starts in the home folder; the open project's folder is one of its places.
  await picker.getByRole('group', { name: 'Places' }).getByRole('button', { name: 'This project' }).click();
  await expect(picker.getByRole('textbox', { name: 'Folder' })).toHaveValue(host.home);
  const entries = picker.getByRole('list', { name: /^Contents of / });
  await entries.getByRole('button', { name: 'copies' }).click();
  await entries.getByRole('button', { name: 'ana.wfproj', exact: true }).click();
  await picker.getByRole('button', { name: 'Choose file' }).click();
  await expect(picker).toBeHidden();
  await expect(field).toHaveValue(copy);
  await snap(page, 'merge-copy-chosen');

  // Enter in the field runs the merge.
  await field.press('Enter');
  const report = dialog.getByRole('region', { name: 'Merge report' });
  await expect(report).toBeVisible({ timeout: 30_000 });
  const cells = async (row: string) =>
    (
      await report
        .getByRole('row', { name: new RegExp(`^${row}`) })
        .getByRole('cell')
        .allTextContents()
    ).map(Number);
  // Added, updated, unchanged, refused.
  expect(await cells('Annotations')).toEqual([2, 1, 0, 0]);
  expect(await cells('History entries')).toEqual([3, 0, 0, 0]);
  const recordings = await cells('Recordings');
  expect(recordings[2]).toBeGreaterThan(0);
  expect([recordings[0], recordings[1], recordings[3]]).toEqual([0, 0, 0]);
  expect(await cells('Utterances')).toEqual([0, 0, handout.utterances, 0]);
  // Only what was added is named (ana joins the roster; no label is new).
  await expect(report.getByText(/^Merged\./)).toHaveText('Merged. 1 annotator(s) added.');
  await expect(report).toContainText('1 conflict(s) resolved');
  // The conflict is named as the list shows the row: the recording's file name and the segment's span.
  await expect(report.getByRole('listitem')).toHaveText([
    'spk_a_01.wav 0.00–2.91 s: ana’s label — kept the copy’s change (the later one)',
  ]);

  // The merged labels are in the list (ana's, who this session is).
  await expect(options.nth(0)).toHaveAttribute('data-label', 'happy');
  await expect(options.nth(1)).toHaveAttribute('data-label', 'angry');
  await expect(options.nth(2)).toHaveAttribute('data-label', 'sad');

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await snap(page, `merge-copy-report-${scheme}`);
    await expectAccessible(page, `merge report (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });

  // Enter again (or Merge) does not merge the same copy over its own report: the report and its Undo stay.
  let merges = 0;
  page.on('request', (r) => {
    if (r.url().endsWith('/api/startMerge')) merges++;
  });
  await expect(field).toBeFocused();
  await field.press('Enter');
  await expect(dialog.getByRole('button', { name: 'Merge', exact: true })).toBeDisabled();
  await expect(dialog.getByRole('button', { name: 'Undo this merge' })).toBeVisible();
  await expect(report).toContainText('1 conflict(s) resolved');
  expect(merges).toBe(0);

  // Undo this merge: the project is as before it (ana's own neutral comes back), the report says so.
  await dialog.getByRole('button', { name: 'Undo this merge' }).click();
  await expect(dialog.getByRole('status')).toContainText(
    'Merge undone: 3 annotation(s) reverted, 0 kept (edited since), 0 utterance(s) removed.',
  );
  await expect(dialog.getByRole('button', { name: 'Undo this merge' })).toBeHidden();
  // The button that had the focus is gone: the focus is back in the field, not lost to the page.
  await expect(field).toBeFocused();
  await expect(options.nth(0)).toHaveAttribute('data-label', 'neutral');
  await expect(options.nth(1)).toHaveAttribute('data-label', '');
  await expect(options.nth(2)).toHaveAttribute('data-label', '');
  await snap(page, 'merge-copy-undone');
  await expectAccessible(page, 'merge undone');

  // Escape closes the dialog, back to the Team dialog.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(team).toBeVisible();
});
