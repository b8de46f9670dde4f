import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Studio } from '../api/studio';
import { studioDataDir } from '../paths';
import { startLoopbackHost, type LoopbackHost } from './loopback-host';

/**
 * The address a project's host had last time: its port and access token, kept per project in
 * `<studio home>/hosts/<hash of the project path>.json` (folder 0700, file 0600). A host restarted on
 * the same project takes them again, so a page left open reconnects with the cookie it already has.
 */
export interface HostIdentity {
  port: number;
  token: string;
}

/** What was found on disk, and why it was or was not used. */
export interface RememberedIdentity {
  file: string;
  identity: HostIdentity | null;
  /** Why a file that exists was not used (unreadable, damaged, readable by others). */
  ignored?: string;
}

const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The file that keeps `project`'s host identity (the project's real path, hashed). */
export function identityFile(project: string, home = studioDataDir()): string {
  let resolved = path.resolve(project);
  try {
    resolved = fs.realpathSync(resolved);
  } catch {
    // Not created yet: its absolute path names it.
  }
  const hash = createHash('sha256').update(resolved).digest('hex').slice(0, 32);
  return path.join(home, 'hosts', `${hash}.json`);
}

/** Reads `project`'s identity; a missing, damaged or over-shared file gives none. */
export function readIdentity(project: string, home?: string): RememberedIdentity {
  const file = identityFile(project, home);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return { file, identity: null };
  }
  // A token others could read may have leaked: a fresh one is safer than a page that reconnects.
  if ((stat.mode & 0o077) !== 0)
    return { file, identity: null, ignored: `readable by others (mode ${(stat.mode & 0o777).toString(8)})` };
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<HostIdentity>;
    const { port, token } = data;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      return { file, identity: null, ignored: 'no valid port' };
    if (typeof token !== 'string' || !TOKEN.test(token)) return { file, identity: null, ignored: 'no valid token' };
    return { file, identity: { port, token } };
  } catch (err) {
    return { file, identity: null, ignored: `unreadable (${(err as Error).message})` };
  }
}

/** Writes `project`'s identity (temp file 0600, then renamed over the old one). */
export function writeIdentity(project: string, identity: HostIdentity, home?: string): string {
  const file = identityFile(project, home);
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const body = `${JSON.stringify({ project: path.resolve(project), port: identity.port, token: identity.token })}\n`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, body);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  return file;
}

export interface ProjectHostOptions {
  studio: Studio;
  rendererDir: string;
  /** A port asked for (0: any free one); none: this project's port last time, else any. */
  port?: number;
  /** A token given (WAVFUSION_TOKEN); none: this project's token last time, else a new one. */
  token?: string;
  /** The studio home holding `hosts/` (default: studioDataDir()). */
  home?: string;
}

/**
 * Starts the loopback host for the studio's project at the address it had last time where it can:
 * the same token, and the same port unless that is taken now (then any free port, said in `notes`).
 * What it ends up with is remembered for the next start, unless both port and token were given.
 */
export async function startProjectHost(
  options: ProjectHostOptions,
): Promise<{ host: LoopbackHost; notes: string[]; reused: boolean }> {
  const { studio, rendererDir, home } = options;
  const project = studio.store.file;
  const notes: string[] = [];
  const remember = options.port === undefined || options.token === undefined;
  const remembered = remember ? readIdentity(project, home) : null;
  if (remembered?.ignored)
    notes.push(`Not reusing this project's last address: ${remembered.file} is ${remembered.ignored}.`);
  const last = remembered?.identity ?? null;
  const token = options.token ?? last?.token ?? newToken();

  let host: LoopbackHost;
  if (options.port === undefined && last) {
    try {
      host = await startLoopbackHost({ studio, rendererDir, port: last.port, token });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' && (err as NodeJS.ErrnoException).code !== 'EACCES')
        throw err;
      host = await startLoopbackHost({ studio, rendererDir, port: 0, token });
      notes.push(
        `Port ${last.port}, this project's port last time, is in use: serving on port ${host.port} instead. ` +
          'A page still open on the old port cannot reconnect; open the URL below.',
      );
    }
  } else host = await startLoopbackHost({ studio, rendererDir, port: options.port ?? 0, token });

  if (remember) {
    try {
      writeIdentity(project, { port: host.port, token: host.token }, home);
    } catch (err) {
      notes.push(`Could not remember this address for the next start: ${(err as Error).message}`);
    }
  }
  const reused = last !== null && host.port === last.port && host.token === last.token;
  return { host, notes, reused };
}
