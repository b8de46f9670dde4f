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

test('1,000 utterances: the list is sized by the total, loads only the pages in view, and End asks for the last page only', async ({
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
  // The page at offset 400 is held back until released, so its rows show as placeholders first.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/listUtterances', async (route) => {
    const input = (route.request().postDataJSON() ?? {}) as { offset?: number };
    if (input.offset === 2 * PAGE) await held;
    await route.continue();
  });
  try {
    await page.goto(host.url);
    const list = page.getByRole('listbox', { name: 'Utterances' });
    const options = list.getByRole('option');
    await expect(page.getByText(`${ROWS} utterances`, { exact: true })).toBeVisible();
    await expect(options.first()).toHaveAttribute('aria-setsize', String(ROWS));
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled(); // the first screen settled
    expect(asked).toEqual([{ offset: 0, limit: PAGE }]);
    // The list is as tall as all its rows, loaded or not.
    expect(await list.evaluate((el) => el.scrollHeight)).toBeGreaterThanOrEqual(ROWS * 50);

    // Scrolling by hand to the middle: placeholders (busy, with their place in the list) until the
    // page in view arrives; only that page is asked for.
    await list.evaluate((el) => (el.scrollTop = 500 * (el.scrollHeight / 1000)));
    const placeholder = list.locator('[role="option"][aria-posinset="501"]');
    await expect(placeholder).toHaveAttribute('aria-busy', 'true');
    await expect(placeholder).toHaveAttribute('aria-setsize', String(ROWS));
    release();
    await expect(placeholder).toContainText('of the paged list');
    await expect(placeholder).not.toHaveAttribute('aria-busy', 'true');
    expect(asked.slice(1)).toEqual([{ offset: 2 * PAGE, limit: PAGE }]);

    // End, from the first row, selects the last utterance: the last page alone is asked for.
    await list.evaluate((el) => (el.scrollTop = 0));
    await options.first().click();
    const before = asked.length;
    await page.keyboard.press('End');
    const selected = list.locator('[role="option"][aria-selected="true"]');
    await expect(selected).toHaveAttribute('aria-posinset', String(ROWS));
    await expect(selected).toContainText(`segment ${ROWS} of the paged list`);
    await expect(selected).toBeInViewport();
    // K goes one up from there; the count line still counts the whole list.
    await page.keyboard.press('k');
    await expect(selected).toHaveAttribute('aria-posinset', String(ROWS - 1));
    await expect(page.getByText(`${ROWS} utterances`, { exact: true })).toBeVisible();
    expect(asked.slice(before)).toEqual([{ offset: ROWS - PAGE, limit: PAGE }]);
    expect(asked.every((a) => a.limit !== null)).toBe(true);
  } finally {
    await host.stop();
  }
});
