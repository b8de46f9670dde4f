import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { StudioSession } from '../../src/main/api/session';
import { Studio } from '../../src/main/api/studio';
import { startLoopbackHost, type LoopbackHost } from '../../src/main/host/loopback-host';
import { RecentProjects } from '../../src/main/project/recent-projects';
import { copyInto, demoClips, runImport, tempDir } from '../helpers/fixtures';

/** A studio home, a user home holding a project with 2 labelled-able utterances, and a host serving the session. */
let home: string;
let user: string;
let first: string;
let session: StudioSession;
let host: LoopbackHost;
let events: { event: string; payload: { info?: { name: string; path: string }; reason?: string } }[];
let ws: WebSocket;

beforeEach(async () => {
  home = tempDir('wavfusion-home-');
  user = tempDir('wavfusion-user-');
  first = path.join(user, 'first.sqlite');
  const studio = await Studio.load(first, { name: 'First' });
  copyInto(path.join(user, 'corpus', 'spk_a'), demoClips('spk_a', 2));
  await runImport(studio, path.join(user, 'corpus'));
  session = new StudioSession(studio, { home, userHome: user, remember: true });
  const renderer = tempDir();
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
  host = await startLoopbackHost({ studio: session, rendererDir: renderer, token: 'projects-token' });
  events = [];
  ws = new WebSocket(`ws://127.0.0.1:${host.port}/events`, {
    headers: { Authorization: 'Bearer projects-token' },
  });
  ws.on('message', (data) => events.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
});

afterEach(async () => {
  ws.close();
  await host.close();
  await session.close();
});

async function api<T = unknown>(name: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${host.port}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer projects-token' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('switching projects through the host', () => {
  it('creates a new project, closes the old database cleanly, and tells every page', async () => {
    const old = session.studio;
    const label = (await api<{ row: { labelId: number } }>('setLabel', { utteranceId: 1, labelId: 2 })).body;
    expect(label.row.labelId).toBe(2);

    const created = await api<{ name: string; path: string; counts: { utterances: number } }>('newProject', {
      path: path.join(user, 'second'),
      name: 'Second corpus',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'Second corpus', path: path.join(user, 'second.sqlite') });
    expect(created.body.counts.utterances).toBe(0);
    // The old project's connection is closed (its WAL checkpointed: no -wal file left), its label on disk.
    expect(old.store.db.open).toBe(false);
    expect(fs.existsSync(`${first}-wal`)).toBe(false);
    const firstDb = new Database(first, { readonly: true });
    expect(firstDb.prepare('SELECT label_id FROM annotations WHERE utterance_id = 1').get()).toEqual({ label_id: 2 });
    firstDb.close();
    // Requests now go to the new project; the page heard it once, with the new project's info.
    expect((await api<{ name: string }>('getProjectInfo', {})).body.name).toBe('Second corpus');
    await until(() => events.some((e) => e.event === 'projectOpened'));
    expect(events.filter((e) => e.event === 'projectOpened')).toEqual([
      {
        event: 'projectOpened',
        payload: expect.objectContaining({
          reason: 'created',
          info: expect.objectContaining({ name: 'Second corpus' }),
        }),
      },
    ]);
    // Events of the new project reach the page (the relay follows the switch).
    await api('saveLabel', { name: 'calm', color: '#336699', hotkey: null });
    await until(() => events.some((e) => e.event === 'labelsChanged'));
    expect(events.some((e) => e.event === 'labelsChanged')).toBe(true);

    // Recent list, persisted in the studio home, newest first.
    const recent = (await api<{ path: string; name: string; exists: boolean }[]>('listRecentProjects', {})).body;
    expect(recent.map((r) => [r.name, r.path, r.exists])).toEqual([
      ['Second corpus', path.join(user, 'second.sqlite'), true],
      ['First', first, true],
    ]);
    expect(new RecentProjects(home).list().map((r) => r.path)).toEqual(recent.map((r) => r.path));

    // And back: the first project opens with its label.
    const reopened = await api<{ name: string; counts: { labelled: number } }>('openProject', { path: first });
    expect(reopened.body).toMatchObject({ name: 'First', counts: { labelled: 1 } });
    expect((await api<{ path: string }[]>('listRecentProjects', {})).body[0]!.path).toBe(first);
  });

  it('refuses a file that is not a WavFusion project, with the clear error, and keeps the open project', async () => {
    const other = path.join(user, 'other.sqlite');
    const foreign = new Database(other);
    foreign.exec('CREATE TABLE things (x)');
    foreign.close();
    const before = fs.readFileSync(other);
    const refused = await api<{ code: string; message: string }>('openProject', { path: other });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/is not a WavFusion Studio project .*It was not changed/);
    expect(fs.readFileSync(other).equals(before)).toBe(true);
    const text = path.join(user, 'notes.sqlite');
    fs.writeFileSync(text, 'hello');
    expect((await api<{ message: string }>('openProject', { path: text })).body.message).toMatch(
      /not an SQLite database/,
    );
    // Still the first project, still working.
    expect((await api<{ name: string }>('getProjectInfo', {})).body.name).toBe('First');
    expect((await api('setLabel', { utteranceId: 2, labelId: 1 })).status).toBe(200);
    expect(events.some((e) => e.event === 'projectOpened')).toBe(false);
    expect((await api<{ path: string }[]>('listRecentProjects', {})).body.map((r) => r.path)).toEqual([first]);
  });

  it('refuses to create over an existing file, to open a missing one, and to switch while a job runs', async () => {
    const exists = await api<{ code: string; message: string }>('newProject', { path: first, name: 'x' });
    expect(exists).toMatchObject({ status: 409, body: { message: expect.stringMatching(/already exists/) } });
    const missing = await api<{ code: string }>('openProject', { path: path.join(user, 'nope.sqlite') });
    expect(missing.status).toBe(404);
    expect((await api<{ code: string }>('openProject', { path: '' })).status).toBe(400);

    // A running job (an import that waits) refuses the switch; nothing is closed.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const job = session.studio.jobs.start('import', 'Slow import', async () => {
      await gate;
      return { added: 0, skipped: 0, failures: [], labelsAdded: [], warnings: [] } as never;
    });
    const busy = await api<{ message: string }>('newProject', { path: path.join(user, 'third'), name: 'Third' });
    expect(busy).toMatchObject({
      status: 409,
      body: { message: expect.stringMatching(/"Slow import" is still running/) },
    });
    expect(fs.existsSync(path.join(user, 'third.sqlite'))).toBe(false);
    release();
    await session.studio.jobs.wait(job);
    expect((await api('newProject', { path: path.join(user, 'third'), name: 'Third' })).status).toBe(200);
  });

  it("starts a new project with the open project's labels and guidelines, and renames it", async () => {
    const labels = (await api<{ id: number; name: string }[]>('listLabels', {})).body;
    const angry = labels.find((l) => l.name === 'angry')!;
    const saved = await api<{ name: string; definition: string; examples: { utteranceId: number; title: string }[] }[]>(
      'saveLabel',
      {
        id: angry.id,
        name: 'angry',
        color: '#b03030',
        hotkey: '3',
        definition: 'Raised, hostile voice.',
        examples: [2, 1, 2],
      },
    );
    const withGuideline = saved.body.find((l) => l.name === 'angry')!;
    expect(withGuideline.definition).toBe('Raised, hostile voice.');
    expect(withGuideline.examples.map((e) => e.utteranceId)).toEqual([2, 1]);
    expect(withGuideline.examples[0]!.title).toMatch(/\.wav @ \d+\.\d s/);
    const badExample = await api<{ message: string }>('saveLabel', { ...angry, examples: [999] });
    expect(badExample).toMatchObject({ status: 400, body: { message: expect.stringMatching(/999 not found/) } });

    await api('newProject', { path: path.join(user, 'copy.sqlite'), name: 'Copy', labels: 'current' });
    const copied = (
      await api<{ name: string; definition: string; examples: unknown[]; hotkey: string }[]>('listLabels', {})
    ).body;
    expect(copied.map((l) => l.name)).toEqual(labels.map((l) => l.name));
    // Definitions come along; examples are the old project's utterances, so they stay behind.
    expect(copied.find((l) => l.name === 'angry')).toMatchObject({
      definition: 'Raised, hostile voice.',
      examples: [],
      hotkey: '3',
    });

    const renamed = await api<{ name: string }>('renameProject', { name: '  Copy of First  ' });
    expect(renamed.body.name).toBe('Copy of First');
    await until(() => events.some((e) => e.payload.reason === 'renamed'));
    expect((await api<{ name: string }[]>('listRecentProjects', {})).body[0]!.name).toBe('Copy of First');
  });
});

describe('the recent list', () => {
  it('survives a damaged file (read as empty), keeps the newest 12 and forgets on request', () => {
    const list = new RecentProjects(home);
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(list.file, '{not json');
    expect(list.list()).toEqual([]);
    for (let i = 0; i < 14; i++) list.touch(path.join(user, `p${i}.sqlite`), `P${i}`);
    const names = list.list().map((r) => r.name);
    expect(names).toHaveLength(12);
    expect(names[0]).toBe('P13');
    expect(list.list()[0]!.exists).toBe(false);
    expect((fs.statSync(list.file).mode & 0o777).toString(8)).toBe('600');
    expect(list.remove(path.join(user, 'p13.sqlite')).map((r) => r.name)[0]).toBe('P12');
  });
});

describe('the web picker (browsePath)', () => {
  it('lists folders and matching files of the home folder, names only', async () => {
    fs.mkdirSync(path.join(user, 'b-folder'));
    fs.mkdirSync(path.join(user, '.hidden'));
    fs.writeFileSync(path.join(user, 'readme.txt'), 'secret contents');
    const folders = await api<{ path: string; parent: string | null; entries: { name: string; kind: string }[] }>(
      'browsePath',
      {},
    );
    expect(folders.body.path).toBe(fs.realpathSync(user));
    expect(folders.body.parent).toBeNull();
    expect(folders.body.entries).toEqual([
      { name: 'b-folder', path: path.join(fs.realpathSync(user), 'b-folder'), kind: 'folder' },
      { name: 'corpus', path: path.join(fs.realpathSync(user), 'corpus'), kind: 'folder' },
    ]);
    const files = await api<{ entries: { name: string; kind: string }[] }>('browsePath', {
      select: 'file',
      extensions: ['.sqlite', '.db'],
    });
    expect(files.body.entries.map((e) => `${e.kind}:${e.name}`)).toEqual([
      'folder:b-folder',
      'folder:corpus',
      'file:first.sqlite',
    ]);
    expect(JSON.stringify(files.body)).not.toMatch(/secret contents/);
    const sub = await api<{ parent: string }>('browsePath', { path: path.join(user, 'corpus', 'spk_a') });
    expect(sub.body.parent).toBe(path.join(fs.realpathSync(user), 'corpus'));
  });

  it('refuses paths outside the home folder, through .. and through symbolic links', async () => {
    const outside = tempDir('wavfusion-outside-');
    fs.mkdirSync(path.join(outside, 'private'));
    const up = await api<{ code: string; message: string }>('browsePath', { path: path.join(user, '..', '..') });
    expect(up.status).toBe(403);
    expect(up.body.message).toMatch(/outside the folders the studio may browse/);
    expect((await api('browsePath', { path: '/etc' })).status).toBe(403);
    expect((await api('browsePath', { path: '../' })).status).toBe(403);
    // A link inside home that leads outside: not listed, and refused when asked for by name.
    fs.symlinkSync(outside, path.join(user, 'escape'));
    fs.symlinkSync(path.join(user, 'corpus'), path.join(user, 'inside-link'));
    const listing = await api<{ entries: { name: string }[] }>('browsePath', {});
    expect(listing.body.entries.map((e) => e.name)).toEqual(['corpus', 'inside-link']);
    const through = await api<{ message: string }>('browsePath', { path: path.join(user, 'escape', 'private') });
    expect(through.status).toBe(403);
    expect(through.body.message).toMatch(/it leads to/);
    expect((await api('browsePath', { path: path.join(user, 'inside-link', 'spk_a') })).status).toBe(200);
    // A folder the user chose (a project opened there) may be browsed, and nothing above it.
    const project = path.join(outside, 'private', 'chosen.sqlite');
    expect((await api('newProject', { path: project, name: 'Chosen' })).status).toBe(200);
    const chosen = await api<{ path: string; parent: string | null; entries: { name: string }[] }>('browsePath', {
      path: path.join(outside, 'private'),
      select: 'file',
      extensions: ['.sqlite'],
    });
    expect(chosen.status).toBe(200);
    expect(chosen.body.entries.map((e) => e.name)).toEqual(['chosen.sqlite']);
    expect(chosen.body.parent).toBeNull();
    expect((await api('browsePath', { path: outside })).status).toBe(403);
  });

  it('answers a missing folder and a file with their own errors', async () => {
    expect((await api('browsePath', { path: path.join(user, 'missing') })).status).toBe(404);
    expect((await api('browsePath', { path: first })).status).toBe(400);
    expect((await api('browsePath', { extensions: ['sqlite'] })).status).toBe(400);
  });
});
