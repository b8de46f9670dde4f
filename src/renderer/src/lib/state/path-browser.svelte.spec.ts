import { describe, expect, it } from 'vitest';
import type { BrowseListing, OperationInput } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { PathBrowser } from './path-browser.svelte';

const ROOTS = [{ label: 'Home', path: '/home/ana' }];
/** The host's listing of `path`: one sub-folder and one project file. */
const listing = (path: string): BrowseListing => ({
  path,
  parent: path === '/home/ana' ? null : path.replace(/\/[^/]*$/, '') || '/',
  entries: [
    { name: 'corpus', path: `${path}/corpus`, kind: 'folder' },
    { name: 'team.sqlite', path: `${path}/team.sqlite`, kind: 'file' },
  ],
  truncated: false,
  roots: ROOTS,
});

/** A host whose home is /home/ana: a path outside it is refused, one under it that is not there is gone. */
function host() {
  return new FakeClient({
    browsePath: ({ path }: OperationInput<'browsePath'>) => {
      const p = path ?? '/home/ana';
      if (!p.startsWith('/home/ana')) throw new Error(`Outside the folders you may browse: ${p}`);
      if (p.endsWith('.sqlite') || p.includes('gone')) throw new Error(`No such folder: ${p}`);
      return listing(p);
    },
  });
}

describe('PathBrowser', () => {
  it('lists a folder with what is picked, and a refusal keeps the folder shown with the core’s message', async () => {
    const fake = host();
    const browser = new PathBrowser(fake.client, 'file', ['.sqlite']);
    expect(await browser.go('/home/ana/work')).toBe(true);
    expect(fake.calls.at(-1)?.input).toEqual({ path: '/home/ana/work', select: 'file', extensions: ['.sqlite'] });
    expect(browser.listing?.path).toBe('/home/ana/work');
    expect(browser.choice).toBeNull();
    browser.chooseFile('/home/ana/work/team.sqlite');
    expect(browser.choice).toBe('/home/ana/work/team.sqlite');

    expect(await browser.go('/etc')).toBe(false);
    expect(browser.error).toBe('Outside the folders you may browse: /etc');
    expect(browser.listing?.path).toBe('/home/ana/work');
    expect(browser.chosenFile).toBe('/home/ana/work/team.sqlite');
    expect(browser.loading).toBe(false);

    // Going on clears the error and the file chosen in the folder left.
    expect(await browser.go('/home/ana/work/corpus')).toBe(true);
    expect(browser.error).toBeNull();
    expect(browser.chosenFile).toBeNull();
  });

  it('a folder picker picks the folder shown', async () => {
    const browser = new PathBrowser(host().client);
    await browser.open();
    expect(browser.listing?.path).toBe('/home/ana');
    expect(browser.choice).toBe('/home/ana');
  });

  it('opens at a file’s folder; at home when the start is gone (no message) or outside (with why)', async () => {
    const fake = host();
    const atFile = new PathBrowser(fake.client, 'file', ['.sqlite']);
    await atFile.open('  /home/ana/work/team.sqlite ');
    expect(atFile.listing?.path).toBe('/home/ana/work');
    expect(atFile.error).toBeNull();

    const gone = new PathBrowser(fake.client);
    await gone.open('/home/ana/gone/deeper');
    expect(gone.listing?.path).toBe('/home/ana');
    expect(gone.error).toBeNull();

    const outside = new PathBrowser(fake.client);
    await outside.open('/etc/corpus');
    expect(outside.listing?.path).toBe('/home/ana');
    expect(outside.error).toBe('Outside the folders you may browse: /etc');
  });
});
