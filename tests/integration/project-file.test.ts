import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import { main } from '../../src/main/cli/main';
import {
  APPLICATION_ID,
  LATEST_SCHEMA_VERSION,
  backupDir,
  backupProject,
  integrityCheck,
} from '../../src/main/db/open-database';
import { migration001 } from '../../src/main/db/migrations/001-initial';
import { isVerified } from '../../src/main/db/verified-stamp';
import { ProjectStore, verifiedStampsDir } from '../../src/main/project/project-store';
import { copyInto, demoClips, runImport, tempDir } from '../helpers/fixtures';

/** Every file of a folder with its bytes: what "untouched" is checked against. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

let stderr: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

describe('project file identity', () => {
  it('marks a new project with the application_id', async () => {
    const file = path.join(tempDir(), 'p.sqlite');
    const studio = Studio.open(file);
    expect(studio.store.db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(integrityCheck(studio.store.db)).toEqual(['ok']);
    await studio.close();
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['check', '--project', file])).toBe(0);
    expect(stdout.mock.calls.map((c) => String(c[0])).join('')).toBe(`${file}: ok\n`);
    stdout.mockRestore();
  });

  it("refuses another application's SQLite file and leaves it byte for byte as it was (app, CLI)", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'other-app.db');
    const raw = new Database(file); // rollback journal, as most applications leave it
    raw.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO contacts (name) VALUES (1)');
    raw.pragma('user_version = 7');
    raw.close();
    const withId = path.join(dir, 'with-id.db');
    const raw2 = new Database(withId);
    raw2.pragma('application_id = 1234');
    raw2.exec('CREATE TABLE t (x)');
    raw2.close();
    const before = snapshot(dir);

    expect(() => Studio.open(file)).toThrow(/other-app\.db is not a WavFusion Studio project.*It was not changed/);
    expect(() => Studio.open(withId)).toThrow(/application_id 1234/);
    const out = tempDir();
    expect(await main(['export', '--project', file, '--out', out])).toBe(1);
    expect(await main(['import', '--project', file, out])).toBe(1);
    expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(/not a WavFusion Studio project/);

    const after = snapshot(dir);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, bytes] of before) expect(after.get(name)!.equals(bytes), name).toBe(true);
  });

  it('opens an older project of ours without an application_id, sets the id, and backs it up first', async () => {
    const file = path.join(tempDir(), 'old.sqlite');
    const v1 = new Database(file);
    v1.pragma('journal_mode = WAL');
    v1.transaction(() => migration001.up(v1))();
    v1.pragma('user_version = 1');
    v1.prepare("INSERT INTO project_meta (key, value) VALUES ('name', 'kept')").run();
    v1.close();
    const studio = Studio.open(file);
    expect(studio.store.name).toBe('kept');
    expect(studio.store.db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(studio.store.db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    await studio.close();
    const backups = fs.readdirSync(backupDir(file));
    expect(backups).toHaveLength(1);
    const backup = new Database(path.join(backupDir(file), backups[0]!), { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(1);
    expect(backup.prepare("SELECT value FROM project_meta WHERE key = 'name'").get()).toEqual({ value: 'kept' });
    backup.close();
  });

  it('gives backups made at the same moment different names (hosts opening one project at once)', async () => {
    // Two processes opening a project in the same millisecond both make the daily backup; with one
    // name for both, the second VACUUM INTO wrote into the first one's half-made file ("table
    // project_meta already exists") and that host could not open the project.
    const file = path.join(tempDir(), 'same-moment.sqlite');
    const studio = Studio.open(file);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-27T12:00:00.000Z') });
    try {
      const first = backupProject(studio.store.db, file, 'daily');
      const second = backupProject(studio.store.db, file, 'daily');
      expect(second).not.toBe(first);
      expect(fs.readdirSync(backupDir(file)).sort()).toEqual([path.basename(first), path.basename(second)].sort());
    } finally {
      vi.useRealTimers();
      await studio.close();
    }
  });

  it('refuses a project with a damaged page, naming the file, the problem and what to do, untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'damaged.sqlite');
    const corpus = tempDir();
    copyInto(corpus, demoClips('spk_a', 9));
    const studio = Studio.open(file);
    await runImport(studio, corpus);
    for (const row of studio.store.rows()) studio.annotations.setLabel(row.id, 2);
    await studio.close();
    // Damage the annotations table's root page, as a bad sector or a torn copy would.
    const ro = new Database(file, { readonly: true });
    const pageSize = ro.pragma('page_size', { simple: true }) as number;
    const { rootpage } = ro.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'annotations'").get() as {
      rootpage: number;
    };
    ro.close();
    const bytes = fs.readFileSync(file);
    bytes.fill(0xa5, (rootpage - 1) * pageSize, (rootpage - 1) * pageSize + 64);
    fs.writeFileSync(file, bytes);
    const before = snapshot(dir);

    let message = '';
    try {
      Studio.open(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`The project file ${file} is damaged`);
    expect(message).toMatch(/It was not changed\. Restore the file from a backup copy, or import the corpus/);
    expect(await main(['export', '--project', file, '--out', tempDir()])).toBe(1);
    const after = snapshot(dir);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, b] of before) expect(after.get(name)!.equals(b), name).toBe(true);
  });

  it('names the backup folder in the damage message when there is one', async () => {
    const file = path.join(tempDir(), 'b.sqlite');
    Studio.open(file).store.close();
    fs.mkdirSync(backupDir(file));
    fs.writeFileSync(file, Buffer.concat([fs.readFileSync(file).subarray(0, 100), Buffer.alloc(8192, 0x5a)]));
    expect(() => Studio.open(file)).toThrow(/is damaged .*Restore the newest backup from .*b\.sqlite\.backups/);
  });

  it('skips the full check only for a file exactly as a clean close left it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'stamped.sqlite');
    const corpus = tempDir();
    copyInto(corpus, demoClips('spk_a', 6));
    const studio = Studio.open(file);
    expect(studio.store.integrity).toBe('new');
    await runImport(studio, corpus);
    await studio.close();
    expect(isVerified(verifiedStampsDir(), file)).toBe(true);

    // unchanged: no second look; a session that writes leaves a new stamp
    const again = Studio.open(file);
    expect(again.store.integrity).toBe('verified-stamp');
    again.annotations.setLabel(again.store.rows()[0]!.id, 2);
    await again.close();
    const store = ProjectStore.open(file);
    expect(store.integrity).toBe('verified-stamp');
    store.close();

    // touched (or copied over, or restored): checked again
    const now = new Date();
    fs.utimesSync(file, now, now);
    expect(isVerified(verifiedStampsDir(), file)).toBe(false);
    const touched = Studio.open(file);
    expect(touched.store.integrity).toBe('quick_check');
    await touched.close();

    // another connection still has it open (a WAL beside it): checked
    const other = new Database(file);
    other.pragma('journal_mode = WAL');
    other.prepare("INSERT INTO project_meta (key, value) VALUES ('probe', 'written elsewhere')").run();
    const beside = Studio.open(file);
    expect(beside.store.integrity).toBe('quick_check');
    await beside.close();
    other.close();

    // damaged after a clean close: the full check runs and refuses it
    const clean = Studio.open(file);
    await clean.close();
    expect(isVerified(verifiedStampsDir(), file)).toBe(true);
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    bytes.fill(0x5a, pageSize, pageSize + 64);
    fs.writeFileSync(file, bytes);
    expect(() => Studio.open(file)).toThrow(/is damaged/);
    expect(isVerified(verifiedStampsDir(), file)).toBe(false);
  });

  it("drops the stamps of project files that are gone, keeps the others', at the next clean close", async () => {
    const dir = tempDir();
    /** The project files the stamps in the data folder vouch for. */
    const stamped = () =>
      fs
        .readdirSync(verifiedStampsDir())
        .filter((n) => n.endsWith('.json'))
        .map((n) => (JSON.parse(fs.readFileSync(path.join(verifiedStampsDir(), n), 'utf8')) as { file: string }).file);
    const kept = path.join(dir, 'kept.sqlite');
    const gone = path.join(dir, 'gone.sqlite');
    await Studio.open(kept).close();
    await Studio.open(gone).close();
    expect(stamped()).toEqual(expect.arrayContaining([kept, gone]));
    const junk = path.join(verifiedStampsDir(), 'left-behind.json');
    fs.writeFileSync(junk, '{not json');
    fs.rmSync(gone);
    const reopened = Studio.open(kept);
    expect(reopened.store.integrity).toBe('verified-stamp');
    await reopened.close();
    expect(stamped()).toContain(kept);
    expect(stamped()).not.toContain(gone);
    expect(fs.existsSync(junk)).toBe(false);
    expect(isVerified(verifiedStampsDir(), kept)).toBe(true);
    // a project created again at the old path starts without a stamp: checked in full
    const again = Studio.open(gone);
    expect(again.store.integrity).toBe('new');
    await again.close();
  });
});
