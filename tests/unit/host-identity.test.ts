import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  identityFile,
  newToken,
  readIdentity,
  startProjectHost,
  writeIdentity,
} from '../../src/main/host/host-identity';
import { openTempStudio, tempDir } from '../helpers/fixtures';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('host identity files', () => {
  it('round-trips port and token in a 0600 file under hosts/ (folder 0700), one per project', () => {
    const home = tempDir();
    const project = path.join(tempDir(), 'a.sqlite');
    expect(readIdentity(project, home)).toEqual({ file: identityFile(project, home), identity: null });
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const file = writeIdentity(project, { port: 41234, token }, home);
    expect(path.dirname(file)).toBe(path.join(home, 'hosts'));
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(readIdentity(project, home).identity).toEqual({ port: 41234, token });
    // Nothing but the file: no temp file left behind.
    expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);

    // Another project has its own file; the same project by another path (symlink) has the same one.
    const other = path.join(path.dirname(project), 'b.sqlite');
    expect(identityFile(other, home)).not.toBe(file);
    fs.writeFileSync(project, '');
    const link = path.join(tempDir(), 'link.sqlite');
    fs.symlinkSync(project, link);
    expect(identityFile(link, home)).toBe(file);

    // Rewriting keeps 0600 and replaces the content.
    writeIdentity(project, { port: 41235, token }, home);
    expect(mode(file)).toBe(0o600);
    expect(readIdentity(project, home).identity).toEqual({ port: 41235, token });
  });

  it('ignores a file others can read, a damaged file and a file with a bad port or token', () => {
    const home = tempDir();
    const project = path.join(tempDir(), 'p.sqlite');
    const file = writeIdentity(project, { port: 40000, token: newToken() }, home);
    fs.chmodSync(file, 0o644);
    expect(readIdentity(project, home)).toMatchObject({ identity: null, ignored: 'readable by others (mode 644)' });
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, '{"port": 40000, "tok');
    expect(readIdentity(project, home)).toMatchObject({
      identity: null,
      ignored: expect.stringMatching(/^unreadable/),
    });
    fs.writeFileSync(file, JSON.stringify({ port: 70000, token: newToken() }));
    expect(readIdentity(project, home)).toMatchObject({ identity: null, ignored: 'no valid port' });
    fs.writeFileSync(file, JSON.stringify({ port: 40000, token: 'short' }));
    expect(readIdentity(project, home)).toMatchObject({ identity: null, ignored: 'no valid token' });
  });
});

describe('startProjectHost', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const renderer = () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>studio</title>');
    return dir;
  };

  it('comes back on the same port and token for the same project, and remembers them', async () => {
    const home = tempDir();
    const { studio, file } = openTempStudio();
    cleanup.push(() => studio.close());
    const rendererDir = renderer();

    const first = await startProjectHost({ studio, rendererDir, home });
    expect(first.reused).toBe(false);
    expect(first.notes).toEqual([]);
    await first.host.close();
    expect(readIdentity(file, home).identity).toEqual({ port: first.host.port, token: first.host.token });
    expect(mode(identityFile(file, home))).toBe(0o600);

    const second = await startProjectHost({ studio, rendererDir, home });
    cleanup.push(() => second.host.close());
    expect(second.reused).toBe(true);
    expect(second.host.url).toBe(first.host.url);
    // The old token opens the new host (the cookie a page kept still works).
    const res = await fetch(`http://127.0.0.1:${second.host.port}/`, {
      headers: { Authorization: `Bearer ${first.host.token}` },
    });
    expect(res.status).toBe(200);
  });

  it('falls back to another port when the old one is taken, says so, and remembers the new one', async () => {
    const home = tempDir();
    const { studio, file } = openTempStudio();
    cleanup.push(() => studio.close());
    const rendererDir = renderer();
    const first = await startProjectHost({ studio, rendererDir, home });
    await first.host.close();

    // Something else took the port meanwhile.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(first.host.port, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));

    const second = await startProjectHost({ studio, rendererDir, home });
    cleanup.push(() => second.host.close());
    expect(second.host.port).not.toBe(first.host.port);
    expect(second.host.token).toBe(first.host.token);
    expect(second.reused).toBe(false);
    expect(second.notes).toEqual([
      `Port ${first.host.port}, this project's port last time, is in use: serving on port ${second.host.port} ` +
        'instead. A page still open on the old port cannot reconnect; open the URL below.',
    ]);
    expect(readIdentity(file, home).identity).toEqual({ port: second.host.port, token: first.host.token });
    expect((await fetch(second.host.url)).status).toBe(200);
  });

  it('uses a port and token given explicitly, and then remembers nothing', async () => {
    const home = tempDir();
    const { studio, file } = openTempStudio();
    cleanup.push(() => studio.close());
    const token = newToken();
    const { host, notes } = await startProjectHost({ studio, rendererDir: renderer(), home, port: 0, token });
    cleanup.push(() => host.close());
    expect(host.token).toBe(token);
    expect(notes).toEqual([]);
    expect(fs.existsSync(identityFile(file, home))).toBe(false);
  });

  it('does not reuse a token from a file others can read, and rewrites it 0600 with a new one', async () => {
    const home = tempDir();
    const { studio, file } = openTempStudio();
    cleanup.push(() => studio.close());
    const old = newToken();
    const identity = writeIdentity(file, { port: 1, token: old }, home);
    fs.chmodSync(identity, 0o640);
    const { host, notes } = await startProjectHost({ studio, rendererDir: renderer(), home });
    cleanup.push(() => host.close());
    expect(host.token).not.toBe(old);
    expect(notes).toEqual([`Not reusing this project's last address: ${identity} is readable by others (mode 640).`]);
    expect(mode(identity)).toBe(0o600);
    expect(readIdentity(file, home).identity).toEqual({ port: host.port, token: host.token });
  });
});
