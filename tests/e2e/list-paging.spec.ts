import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { copyDemoClips, expect, REPO_ROOT, startHost, test } from './fixtures';

const ROWS = 1000;
const PAGE = 200;

/** A project with 1,000 utterances (segments of two demo recordings), imported with the real CLI. */
function makeProject(tmp: string): string {
  const audio = path.join(tmp, 'audio');
  const wavs = copyDemoClips('spk_a', audio, 2).map((w) => path.basename(w));
  const lines = ['path,text,speaker,start,end'];
  for (let i = 0; i < ROWS; i++) {
    const start = Math.round(Math.floor(i / wavs.length) * 0.001 * 1e4) / 1e4;
    const end = Math.round((start + 0.3) * 1e4) / 1e4;
    lines.push(`${wavs[i % wavs.length]},segment ${i + 1} of the paged list,spk_a,${start},${end}`);
  }
  fs.writeFileSync(path.join(audio, 'manifest.csv'), lines.join('\n'));
  const project = path.join(tmp, 'paged.sqlite');
  execFileSync(
    process.execPath,
    ['bin/wavfusion.mjs', 'import', '--project', project, path.join(audio, 'manifest.csv')],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  return project;
}

test('1,000 utterances: the first screen asks for one page, scrolling loads more, End selects the last', async ({
  page,
  tmp,
}) => {
  const host = await startHost({ project: makeProject(tmp) });
  const asked: { offset: number; limit: number | null }[] = [];
  page.on('request', (request) => {
    if (!request.url().includes('/api/listUtterances')) return;
    const input = (request.postDataJSON() ?? {}) as { offset?: number; limit?: number | null };
    asked.push({ offset: input.offset ?? 0, limit: input.limit ?? null });
  });
  try {
    await page.goto(host.url);
    const list = page.getByRole('listbox', { name: 'Utterances' });
    const options = list.getByRole('option');
    await expect(page.getByText(`${ROWS} utterances`, { exact: true })).toBeVisible();
    await expect(options.first()).toHaveAttribute('aria-setsize', String(ROWS));
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled(); // the first screen settled
    expect(asked).toEqual([{ offset: 0, limit: PAGE }]);

    // Scrolling to the end of what is loaded asks for the next page, which then shows.
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect(list.locator(`[role="option"][aria-posinset="${PAGE + 1}"]`)).toBeVisible();
    expect(asked[1]).toEqual({ offset: PAGE, limit: PAGE });

    // End, from the first row, selects the last utterance (its pages loaded on the way).
    await list.evaluate((el) => (el.scrollTop = 0));
    await options.first().click();
    await page.keyboard.press('End');
    const selected = list.locator('[role="option"][aria-selected="true"]');
    await expect(selected).toHaveAttribute('aria-posinset', String(ROWS));
    await expect(selected).toContainText(`segment ${ROWS} of the paged list`);
    await expect(selected).toBeInViewport();
    // K goes one up from there; the count line still counts the whole list.
    await page.keyboard.press('k');
    await expect(selected).toHaveAttribute('aria-posinset', String(ROWS - 1));
    expect(asked.every((a) => a.limit !== null)).toBe(true);
  } finally {
    await host.stop();
  }
});
