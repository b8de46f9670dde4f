import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { copyDemoClips, expect, REPO_ROOT, startHost, test } from './fixtures';

const ROWS = 10_000;

/** A project with 10,000 utterances (segments of four real recordings), imported with the real CLI. */
function makeLargeProject(tmp: string): string {
  const audio = path.join(tmp, 'audio');
  const wavs = copyDemoClips('spk_a', audio, 4).map((w) => path.basename(w));
  const lines = ['path,text,speaker,start,end'];
  for (let i = 0; i < ROWS; i++) {
    const start = Math.round(Math.floor(i / wavs.length) * 0.0008 * 1e4) / 1e4;
    const end = Math.round((start + 0.3) * 1e4) / 1e4;
    lines.push(
      `${wavs[i % wavs.length]},segment ${i + 1} of the long corpus,spk_${String(i % 37).padStart(2, '0')},${start},${end}`,
    );
  }
  fs.writeFileSync(path.join(audio, 'manifest.csv'), lines.join('\n'));
  const project = path.join(tmp, 'large.sqlite');
  execFileSync(
    process.execPath,
    ['bin/wavfusion.mjs', 'import', '--project', project, path.join(audio, 'manifest.csv')],
    {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    },
  );
  return project;
}

test('10,000 utterances: the list stays virtualized and keyboard navigation keeps up', async ({ page, tmp }) => {
  const host = await startHost({ project: makeLargeProject(tmp) });
  try {
    await page.goto(host.url);
    const list = page.getByRole('listbox', { name: 'Utterances' });
    const options = list.getByRole('option');
    await expect(page.getByText(`${ROWS} utterances`, { exact: true })).toBeVisible();
    await expect(options.first()).toHaveAttribute('aria-setsize', String(ROWS));

    // Only the rows in view (plus overscan) are in the DOM.
    expect(await options.count()).toBeLessThan(60);

    // 60 presses of J: the selection follows and stays scrolled into view.
    await options.first().click();
    for (let i = 0; i < 60; i++) await page.keyboard.press('j');
    const selected = list.locator('[role="option"][aria-selected="true"]');
    await expect(selected).toHaveAttribute('aria-posinset', '61');
    await expect(selected).toBeInViewport({ ratio: 1 });
    await expect(list).toHaveAttribute('aria-activedescendant', /^utt-\d+$/);
    expect(await options.count()).toBeLessThan(60);

    // Once the selection settles, one player is on the page: the previous ones were destroyed.
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
    await expect(page.getByTestId('waveform').locator(':scope > div')).toHaveCount(1);
    expect(await page.locator('audio, video').count()).toBeLessThanOrEqual(1);

    // The list is sized by the whole list and loads the pages in view: dragged to the end, its last rows show.
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect(list.locator(`[role="option"][aria-posinset="${ROWS}"]`)).toContainText(
      `segment ${ROWS} of the long corpus`,
    );

    // K goes back up one; the selection scrolls back into view from far away.
    await page.keyboard.press('k');
    await expect(selected).toHaveAttribute('aria-posinset', '60');
    await expect(selected).toBeInViewport({ ratio: 1 });

    // End loads the last page and selects the last row.
    await page.keyboard.press('End');
    await expect(selected).toHaveAttribute('aria-posinset', String(ROWS));
    await expect(selected).toContainText(`segment ${ROWS} of the long corpus`);
    await expect(selected).toBeInViewport();

    // The search narrows 10,000 rows to one.
    await page.getByRole('searchbox', { name: 'Search transcripts' }).fill('segment 9876 ');
    await expect(options).toHaveCount(1);
    await expect(options.first()).toContainText('segment 9876 of the long corpus');
  } finally {
    await host.stop();
  }
});
