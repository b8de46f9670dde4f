import fs from 'node:fs';
import path from 'node:path';
import { expect, openStudio, snap, startHost, test, expectAccessible } from './fixtures';

for (const scheme of ['light', 'dark'] as const) {
  test(`${scheme}: new project through the web picker, a refused file, back through the recent list`, async ({
    page,
    tmp,
  }) => {
    // The host's HOME is a folder of our own: the picker is confined to it (and to the projects' folders).
    const home = path.join(tmp, 'home');
    fs.mkdirSync(path.join(home, 'corpora'), { recursive: true });
    fs.writeFileSync(path.join(home, 'corpora', 'notes.sqlite'), 'not a database');
    fs.writeFileSync(path.join(home, 'corpora', 'readme.txt'), 'private');
    const host = await startHost({ env: { HOME: home } });
    try {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: 1024, height: 640 });
      await openStudio(page, host);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Demo corpus');
      const labelButtons = page.getByRole('group', { name: 'Labels' }).getByRole('button');
      const demoLabels = await labelButtons.allTextContents();

      await page.getByRole('button', { name: 'Projects: new, open, recent' }).click();
      const projects = page.getByRole('dialog', { name: 'Projects' });
      await expect(projects.getByRole('list', { name: 'Recent projects' })).toContainText('Demo corpus');
      await expect(projects.getByText('Open now')).toBeVisible();
      await snap(page, `projects-dialog-${scheme}-1024`);
      await expectAccessible(page, `projects dialog (${scheme})`);

      // New project: the name, then Browse picks a folder in the home folder through the host.
      await projects.getByPlaceholder('e.g. Call-centre study').fill('Call centre study');
      await projects.getByRole('button', { name: 'Browse for New project file' }).click();
      const picker = page.getByRole('dialog', { name: 'New project file' });
      const entries = picker.getByRole('list', { name: /^Contents of / });
      // It starts in the open project's folder (the studio home here); Home is one of its places.
      await expect(picker.getByRole('textbox', { name: 'Folder' })).toHaveValue(host.home);
      await picker.getByRole('group', { name: 'Places' }).getByRole('button', { name: 'Home' }).click();
      await expect(picker.getByRole('textbox', { name: 'Folder' })).toHaveValue(home);
      await expect(entries.getByRole('button')).toHaveText(['corpora']); // folders only, no file, no contents
      await entries.getByRole('button', { name: 'corpora' }).click();
      await expect(picker.getByRole('textbox', { name: 'Folder' })).toHaveValue(path.join(home, 'corpora'));
      await snap(page, `projects-picker-${scheme}-1024`);
      await expectAccessible(page, `path picker (${scheme})`);
      // Outside the home folder: refused, with why; the listing stays where it was.
      await picker.getByRole('textbox', { name: 'Folder' }).fill('/etc');
      await picker.getByRole('button', { name: 'Go' }).click();
      await expect(picker.getByRole('alert')).toContainText('outside the folders the studio may browse');
      await picker.getByRole('textbox', { name: 'Folder' }).fill(path.join(home, 'corpora', '..', '..'));
      await picker.getByRole('button', { name: 'Go' }).click();
      await expect(picker.getByRole('alert')).toContainText('outside the folders the studio may browse');
      await snap(page, `projects-picker-refused-${scheme}-1024`);
      await picker.getByRole('button', { name: 'Choose this folder' }).click();
      await expect(picker).toBeHidden();
      const file = path.join(home, 'corpora', 'call-centre-study.sqlite');
      await expect(projects.getByRole('textbox', { name: 'New project file' })).toHaveValue(file);
      await projects.getByRole('radio', { name: /This project's labels/ }).check();
      await projects.getByRole('button', { name: 'Create project' }).click();

      // The studio is on the new project: its name, no utterances, the demo's labels.
      await expect(projects).toBeHidden();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Call centre study');
      await expect(page.getByRole('listbox', { name: 'Utterances' }).getByRole('option')).toHaveCount(0);
      expect(fs.existsSync(file)).toBe(true);
      await expect(labelButtons).toHaveText(demoLabels);
      await snap(page, `projects-new-${scheme}-1024`);

      // A file that is not a project: the clear error, and the studio stays on this project.
      await page.getByRole('button', { name: 'Projects: new, open, recent' }).click();
      await projects
        .getByRole('textbox', { name: 'Project file', exact: true })
        .fill(path.join(home, 'corpora', 'notes.sqlite'));
      await projects.getByRole('button', { name: 'Open project' }).click();
      await expect(projects.getByRole('alert')).toContainText('is not a WavFusion Studio project');
      await expect(projects.getByRole('alert')).toContainText('It was not changed');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Call centre study');
      expect(fs.readFileSync(path.join(home, 'corpora', 'notes.sqlite'), 'utf8')).toBe('not a database');

      // Back to the demo through the recent list: its utterances again.
      await projects.getByRole('button', { name: 'Open Demo corpus' }).click();
      await expect(projects).toBeHidden();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Demo corpus');
      await expect(page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first()).toBeVisible();
      const recent = JSON.parse(fs.readFileSync(path.join(host.home, 'recent-projects.json'), 'utf8')) as {
        projects: { name: string }[];
      };
      expect(recent.projects.map((p) => p.name)).toEqual(['Demo corpus', 'Call centre study']);
    } finally {
      await host.stop();
    }
  });

  test(`${scheme}: a label's guideline (definition, an example) is written in Labels and played under the label bar`, async ({
    page,
    host,
  }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width: 1024, height: 640 });
    await openStudio(page, host);
    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await options.nth(1).click();
    await page
      .getByRole('button', { name: 'Labels…' })
      .or(page.getByRole('button', { name: 'Labels' }))
      .first()
      .click();
    const labels = page.getByRole('dialog', { name: 'Labels' });
    const angry = labels.locator('[data-label="angry"]');
    await angry.getByText('Guideline').click();
    await angry.getByRole('textbox', { name: 'Definition of angry' }).fill('Raised, tense voice; hostile words.');
    await angry.getByRole('textbox', { name: 'Definition of angry' }).press('Tab');
    await angry.getByRole('button', { name: 'Add the selected utterance' }).click();
    await expect(angry.getByRole('list', { name: 'Examples of angry' }).getByRole('listitem')).toHaveCount(1);
    await snap(page, `labels-guideline-${scheme}-1024`);
    await expectAccessible(page, `labels dialog with a guideline (${scheme})`);
    await labels.getByRole('button', { name: 'Done' }).click();
    await expect(labels).toBeHidden();

    const guidelines = page.getByRole('region', { name: 'Label guidelines' });
    await guidelines.getByRole('button', { name: /Guidelines/ }).click();
    await expect(guidelines).toContainText('Raised, tense voice; hostile words.');
    const play = guidelines.getByRole('button', { name: /^Play example 1 of angry/ });
    const clip = page.waitForResponse((r) => /\/media\/utterances\/\d+\/clip\.wav\?context=0$/.test(r.url()));
    await play.click();
    expect([200, 206]).toContain((await clip).status()); // media elements ask with a Range
    await snap(page, `label-guidelines-${scheme}-1024`);
    await expectAccessible(page, `label guidelines (${scheme})`);

    // Stored in the project: there after a reload.
    await page.reload();
    await page
      .getByRole('region', { name: 'Label guidelines' })
      .getByRole('button', { name: /Guidelines/ })
      .click();
    await expect(page.getByRole('region', { name: 'Label guidelines' })).toContainText('Raised, tense voice');
  });
}
