import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_CORPUS, expect, REPO_ROOT, snap, test, expectAccessible } from './fixtures';

/**
 * A real `wavfusion serve` on the demo project of `home`, as `npm start -- --web` runs it (no --port,
 * no token), or with the arguments and token given.
 */
async function serve(
  home: string,
  args: string[] = [],
  token?: string,
): Promise<{ child: ChildProcess; url: string; stdout: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, WAVFUSION_HOME: home };
  delete env.WAVFUSION_TOKEN;
  if (token) env.WAVFUSION_TOKEN = token;
  const child = spawn(process.execPath, ['bin/wavfusion.mjs', 'serve', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s:\n${out}\n${err}`)), 30_000);
    const check = () => {
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`wavfusion serve exited (${code}):\n${err}`)));
  });
  return { child, url, stdout: () => out };
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

/** Human labels in the project file, by recording file name (read straight from SQLite). */
function storedLabels(file: string): Record<string, string> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT r.file_name AS name, l.name AS label FROM annotations a
           JOIN utterances u ON u.id = a.utterance_id JOIN recordings r ON r.id = u.recording_id
           JOIN labels l ON l.id = a.label_id WHERE a.origin = 'human'`,
      )
      .all() as { name: string; label: string }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.label]));
  } finally {
    db.close();
  }
}

test('a host killed and restarted on the same project: the page goes offline, keeps its edits, reconnects and saves them', async ({
  page,
  tmp,
}) => {
  test.setTimeout(120_000);
  const home = path.join(tmp, 'home');
  const project = path.join(home, 'demo.sqlite');
  let host = await serve(home);
  try {
    await page.goto(host.url);
    const list = page.getByRole('listbox', { name: 'Utterances' });
    const options = list.getByRole('option');
    await expect(options.first()).toBeVisible();
    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));

    // Online: a label is saved as usual.
    await options.nth(0).click();
    await page.keyboard.press('2');
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    expect(storedLabels(project)).toEqual({ 'spk_a_01.wav': 'happy' });

    // The host dies (kill -9): the page says so at once.
    await killHard(host.child);
    const banner = page.getByTestId('offline-banner');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('The studio host is unreachable.');
    await expect(banner).toContainText('Edits you make now are kept in this page and saved when the host is back.');

    // Two labels made while it is down: shown at once, kept, counted in the banner.
    await options.nth(1).click();
    await page.keyboard.press('3');
    await expect(options.nth(1)).toHaveAttribute('data-label', 'angry');
    await page.keyboard.press('4'); // auto-advance went on to the third row
    await expect(options.nth(2)).toHaveAttribute('data-label', 'sad');
    await expect(banner).toContainText('2 edits are not saved yet: kept in this page and saved when the host is back.');
    await expect(page.getByTestId('save-state')).toHaveText('Saving…');
    // Nothing reached the file: the host is gone.
    expect(storedLabels(project)).toEqual({ 'spk_a_01.wav': 'happy' });

    await snap(page, 'offline-light');
    await expectAccessible(page, 'offline banner (light)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await snap(page, 'offline-dark');
    await expectAccessible(page, 'offline banner (dark)');
    await page.emulateMedia({ colorScheme: 'light' });

    // Restarted on the same project: same port, same token (remembered in the studio home, 0600).
    const before = host.url;
    host = await serve(home);
    expect(host.url).toBe(before);
    expect(host.stdout()).toContain('at the same address as last time');
    const hosts = path.join(home, 'hosts');
    const [identity] = fs.readdirSync(hosts);
    expect(fs.statSync(path.join(hosts, identity!)).mode & 0o777).toBe(0o600);

    // The page reconnects by itself, sends the kept edits, and they are in the file.
    await expect(banner).toBeHidden({ timeout: 15_000 });
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    await expect
      .poll(() => storedLabels(project))
      .toEqual({ 'spk_a_01.wav': 'happy', 'spk_a_02.wav': 'angry', 'spk_a_03.wav': 'sad' });
    await expect(options.nth(1)).toHaveAttribute('data-label', 'angry');
    await expect(options.nth(2)).toHaveAttribute('data-label', 'sad');
    await expect(page.getByTestId('labelled-count')).toHaveText('labelled 3 / total 36');
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);

    // And it is live again: a new label is saved, and the selection's waveform loads.
    await page.keyboard.press('1');
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    await expect.poll(() => storedLabels(project)['spk_a_04.wav']).toBe('neutral');
    await expect(page.getByRole('alert')).toHaveCount(0);
  } finally {
    await killHard(host.child);
  }
});

test('a host that comes back on the same address with another project open: kept edits are not sent there, and the page says so', async ({
  page,
  tmp,
}) => {
  test.setTimeout(120_000);
  const home = path.join(tmp, 'home');
  let host = await serve(home);
  try {
    await page.goto(host.url);
    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await expect(options.first()).toBeVisible();
    await killHard(host.child);
    await expect(page.getByTestId('offline-banner')).toBeVisible();
    await options.nth(1).click();
    await page.keyboard.press('3');
    await expect(options.nth(1)).toHaveAttribute('data-label', 'angry');

    // Another project, whose utterance ids are the demo's (a kept edit would land on its utterance 2),
    // served on the same port with the same token (as a host that opened another project would be).
    const other = path.join(tmp, 'other.sqlite');
    const imported = spawnSync(
      process.execPath,
      ['bin/wavfusion.mjs', 'import', '--project', other, path.join(DEMO_CORPUS, 'spk_b')],
      { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, WAVFUSION_HOME: home } },
    );
    expect(imported.status, imported.stderr).toBe(0);
    const { port, searchParams } = new URL(host.url);
    host = await serve(home, ['--project', other, '--port', port], searchParams.get('token')!);
    await expect(page.getByTestId('offline-banner')).toBeHidden({ timeout: 15_000 });
    await expect(page.getByRole('alert').filter({ hasText: 'Could not save the label' })).toHaveText(
      `Could not save the label of spk_a_02.wav: the studio host came back with another project open (${other}), ` +
        'so this edit was not sent',
    );
    // Nothing was written to the other project, nor (the host is gone) to the demo project.
    expect(storedLabels(other)).toEqual({});
    expect(storedLabels(path.join(home, 'demo.sqlite'))).toEqual({});
    // The page now shows what the host has open.
    await expect(page.getByTestId('labelled-count')).toHaveText('labelled 0 / total 9');
  } finally {
    await killHard(host.child);
  }
});

test('a job that was running on the host that died is not shown as running after the page reconnects to the restarted host', async ({
  page,
  tmp,
}) => {
  test.setTimeout(120_000);
  const home = path.join(tmp, 'home');
  // Enough files that the import is still running when the host is killed (hard links cost no disk).
  const folder = path.join(tmp, 'many');
  fs.mkdirSync(folder);
  const source = path.join(DEMO_CORPUS, 'spk_a', 'spk_a_08.wav');
  for (let i = 0; i < 3000; i++) fs.linkSync(source, path.join(folder, `take_${String(i).padStart(4, '0')}.wav`));
  let host = await serve(home);
  try {
    await page.goto(host.url);
    await expect(page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first()).toBeVisible();
    await page.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import audio' });
    await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(folder);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(dialog.getByRole('progressbar', { name: `Import ${folder}` })).toBeVisible();
    await dialog.getByRole('button', { name: 'Close', exact: true }).first().click();
    const status = page.getByRole('contentinfo');
    await expect(status.getByRole('progressbar', { name: `Import ${folder}` })).toBeVisible();

    await killHard(host.child);
    await expect(page.getByTestId('offline-banner')).toBeVisible();
    host = await serve(home);
    await expect(page.getByTestId('offline-banner')).toBeHidden({ timeout: 15_000 });

    // The restarted host never heard of that import: it is not running any more, and the page says so.
    await expect(status.getByRole('progressbar')).toHaveCount(0);
    await expect(page.getByRole('alert')).toContainText(
      `"Import ${folder}" was interrupted: the studio host stopped while it ran, and it did not finish`,
    );
  } finally {
    await killHard(host.child);
  }
});
