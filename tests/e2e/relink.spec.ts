import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { copyDemoClips, expect, REPO_ROOT, snap, startHost, test } from './fixtures';

test('moved recordings are marked missing and can be relinked from the waveform panel', async ({ page, tmp }) => {
  // A project whose two recordings are then moved on disk.
  const original = path.join(tmp, 'session-1');
  copyDemoClips('spk_d', original, 2);
  const project = path.join(tmp, 'moved.sqlite');
  execFileSync(process.execPath, ['bin/wavfusion.mjs', 'import', '--project', project, original], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
  });
  const moved = path.join(tmp, 'archive', 'session-1');
  fs.mkdirSync(path.dirname(moved), { recursive: true });
  fs.renameSync(original, moved);

  const host = await startHost({ project });
  try {
    await page.goto(host.url);
    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await expect(options).toHaveCount(2);
    await expect(options.nth(0)).toHaveAccessibleName(/recording missing/);
    await expect(page.getByRole('contentinfo')).toContainText('2 missing recording(s)');

    const panel = page.getByRole('region', { name: 'Waveform' });
    await expect(panel).toContainText('The recording file is missing.');
    await snap(page, 'missing-recording');
    await panel.getByRole('button', { name: 'Relink…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Relink missing recordings' });
    await dialog.getByRole('textbox', { name: 'Folder to search' }).fill(path.join(tmp, 'archive'));
    await dialog.getByRole('button', { name: 'Relink', exact: true }).click();
    await expect(dialog.getByRole('region', { name: 'Relink report' })).toContainText('2 recording(s) relinked.');
    await dialog.getByRole('button', { name: 'Done' }).click();

    await expect(options.nth(0)).not.toHaveAccessibleName(/recording missing/);
    await expect(page.getByRole('contentinfo')).not.toContainText('missing recording');
    await expect(panel).not.toContainText('The recording file is missing.');
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
  } finally {
    await host.stop();
  }
});
