/**
 * Verified stamps: a record, kept in the studio's data folder, that a project file was sound when this
 * app last closed it, and exactly which bytes it then was. Opening a project runs SQLite's
 * `quick_check` over the whole file (~110 ms of a 100k-utterance project's ~140 ms first screen); a
 * file that still is what a clean close left needs no second look. "Still is" means the same device,
 * inode, size, modification and change times (ns) and the same 100-byte SQLite header, and no
 * write-ahead log beside it: any write, a copy over it, a restored backup, `touch`, or a crash with
 * unsaved WAL changes the change time or leaves a WAL, and the full check runs again. Damage that
 * changes no byte's metadata (bit rot) is left to SQLite's own corruption errors at read time
 * (Studio.checkDamage), as it is between checks anyway.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

interface FileIdentity {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  /** SHA-256 of the 100-byte SQLite header (page size, change counter, schema cookie, user_version…). */
  header: string;
}

function identityOf(file: string): FileIdentity | null {
  try {
    const st = fs.statSync(file, { bigint: true });
    const head = Buffer.alloc(100);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, head, 0, 100, 0);
    } finally {
      fs.closeSync(fd);
    }
    return {
      dev: String(st.dev),
      ino: String(st.ino),
      size: String(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
      header: createHash('sha256').update(head).digest('hex'),
    };
  } catch {
    return null;
  }
}

function stampFile(dir: string, file: string): string {
  return path.join(dir, `${createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 32)}.json`);
}

/** Whether a write-ahead log with content sits beside the file (another connection, or a crash). */
function hasWal(file: string): boolean {
  try {
    return fs.statSync(`${file}-wal`).size > 0;
  } catch {
    return false;
  }
}

/** Whether the file is, byte for byte by its metadata, what this app stamped at its last clean close. */
export function isVerified(dir: string, file: string): boolean {
  if (hasWal(file)) return false;
  let stamped: unknown;
  try {
    stamped = JSON.parse(fs.readFileSync(stampFile(dir, file), 'utf8'));
  } catch {
    return false;
  }
  const now = identityOf(file);
  if (!now || typeof stamped !== 'object' || stamped === null) return false;
  return (Object.keys(now) as (keyof FileIdentity)[]).every((k) => (stamped as FileIdentity)[k] === now[k]);
}

/**
 * Stamps the file as sound as it now is: call after the last connection closed cleanly on a file that
 * passed its check at open. Does nothing while a WAL remains (another connection still has it open).
 * Best effort: a stamp that cannot be written only means the next open checks the file.
 */
export function recordVerified(dir: string, file: string): void {
  if (hasWal(file)) return;
  const identity = identityOf(file);
  if (!identity) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const target = stampFile(dir, file);
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ file: path.resolve(file), ...identity }));
    fs.renameSync(tmp, target);
  } catch {
    // the next open runs the full check
  }
  pruneVerified(dir);
}

/**
 * Removes the stamps of project files that no longer exist (deleted, moved or renamed: a stamp is kept
 * per path, so these are the only ones that pile up), and temporary files left by a crash mid-write.
 * Best effort, at each stamp written.
 */
export function pruneVerified(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const entry = path.join(dir, name);
    try {
      if (name.endsWith('.tmp')) {
        // another process's write in progress is renamed within milliseconds; an hour-old one was left behind
        if (Date.now() - fs.statSync(entry).mtimeMs > 3_600_000) fs.rmSync(entry, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const stamped = JSON.parse(fs.readFileSync(entry, 'utf8')) as { file?: unknown };
      if (typeof stamped.file !== 'string' || !fs.existsSync(stamped.file)) fs.rmSync(entry, { force: true });
    } catch {
      fs.rmSync(entry, { force: true }); // unreadable: it cannot vouch for anything
    }
  }
}

/** Removes the file's stamp (it was found damaged, or is being replaced). */
export function forgetVerified(dir: string, file: string): void {
  fs.rmSync(stampFile(dir, file), { force: true });
}
