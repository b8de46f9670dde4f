import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations';
import type { Migration } from './migrations/types';
import { forgetVerified, isVerified } from './verified-stamp';

export type Db = Database.Database;

/**
 * SQLite `PRAGMA application_id` of a WavFusion Studio project ("WFSt"). The one place it is defined:
 * a file carrying another id (or none, and not empty, and not one of our older projects) is refused.
 */
export const APPLICATION_ID = 0x57465374;

/** How long a write waits for another connection (another window, the CLI) to finish its commit. */
export const BUSY_TIMEOUT_MS = 10_000;

/** The tables every project has had since schema 1: how an older project without an id is recognised. */
const PROJECT_TABLES = ['project_meta', 'recordings', 'utterances', 'labels', 'annotations', 'history'];

/** How many pre-migration backups are kept per project. */
export const BACKUPS_KEPT = 5;

export interface OpenOptions {
  /** Create the file if it does not exist (default true). */
  create?: boolean;
  /** For tests: the migrations to apply (default: all). */
  migrations?: readonly Migration[];
  /**
   * The folder of verified stamps (verified-stamp.ts): a file still exactly as this app's last clean
   * close left it skips `quick_check` (unless a migration is due). Absent: the check always runs.
   */
  verifiedStamps?: string;
  /** Filled in: how the existing file's integrity was established (absent for a new file). */
  report?: { integrity?: 'quick_check' | 'verified-stamp' };
}

/**
 * Opens (or creates) a project file. Before anything is written to an existing file it is checked,
 * read-only: an SQLite database, ours (application_id, or an older project of ours), not newer than
 * this app, and passing `quick_check` (skipped for a file a verified stamp shows unchanged since a
 * clean close). A file failing any check is refused and left byte for byte as it was. Then: WAL, foreign keys, full fsync on commit, a busy timeout, a backup if a migration is due,
 * and the migrations up to the newest this app knows.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const create = options.create ?? true;
  const list = options.migrations ?? migrations;
  const latest = list.length ? list[list.length - 1]!.version : 0;
  const exists = fs.existsSync(file);
  if (!exists && !create) throw new StudioError('not_found', `Project file not found: ${file}`);
  if (!exists) fs.mkdirSync(path.dirname(file), { recursive: true });
  if (exists) {
    const integrity = validateExisting(file, latest, options.verifiedStamps);
    if (options.report) options.report.integrity = integrity;
  }
  let db: Db;
  try {
    db = new Database(file, {
      fileMustExist: !create,
      timeout: BUSY_TIMEOUT_MS,
      nativeBinding: process.env.WAVFUSION_SQLITE_BINDING || undefined,
    });
  } catch (err) {
    throw new StudioError('unsupported', `Cannot open project ${file}: ${(err as Error).message}`);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before it is acknowledged, so an acknowledged label survives a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= 1 && version < latest) backupProject(db, file, `before-schema${latest}`);
    else if (version >= 1 && newestBackupAgeMs(file) > DAY_MS) backupProject(db, file, 'daily');
    migrate(db, list);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StudioError) throw err;
    throw new StudioError('unsupported', `Cannot open project ${file}: ${(err as Error).message}`);
  }
}

/**
 * Checks an existing file without writing to it; throws a StudioError naming the file, what is wrong
 * and what to do. An older project of ours without an application_id passes (migrate sets the id).
 */
function validateExisting(
  file: string,
  latest: number,
  verifiedStamps: string | undefined,
): 'quick_check' | 'verified-stamp' | undefined {
  const size = fs.statSync(file).size;
  if (size === 0) return undefined; // an empty file is a new database
  const head = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  const notOurs = (what: string) =>
    new StudioError(
      'unsupported',
      `${file} is not a WavFusion Studio project (${what}). It was not changed. Open a project file, or ` +
        'give a new file name to create one.',
    );
  if (head.toString('latin1') !== 'SQLite format 3\u0000') throw notOurs('not an SQLite database');
  let ro: Db;
  try {
    ro = new Database(file, {
      readonly: true,
      fileMustExist: true,
      timeout: BUSY_TIMEOUT_MS,
      nativeBinding: process.env.WAVFUSION_SQLITE_BINDING || undefined,
    });
  } catch (err) {
    throw new StudioError('unsupported', `Cannot open project ${file}: ${(err as Error).message}`);
  }
  try {
    let appId: number;
    let version: number;
    let tables: string[];
    try {
      appId = ro.pragma('application_id', { simple: true }) as number;
      version = ro.pragma('user_version', { simple: true }) as number;
      tables = ro
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((t) => t.name);
    } catch (err) {
      throw damaged(file, (err as Error).message);
    }
    if (appId !== APPLICATION_ID) {
      const empty = appId === 0 && version === 0 && tables.length === 0;
      const legacy = appId === 0 && version >= 1 && PROJECT_TABLES.every((t) => tables.includes(t));
      if (!empty && !legacy) {
        throw notOurs(
          appId !== 0
            ? `an SQLite database of another application, application_id ${appId}`
            : 'an SQLite database of another application',
        );
      }
    }
    if (version > latest) {
      throw new StudioError(
        'unsupported',
        `This project was saved by a newer version of WavFusion Studio (project schema ${version}, ` +
          `this app understands up to ${latest}). Update the app to open it; the file was not changed.`,
      );
    }
    // unchanged since a clean close of a checked file, and nothing to migrate: no second look
    if (verifiedStamps && version === latest && isVerified(verifiedStamps, file)) return 'verified-stamp';
    let problems: string[];
    try {
      problems = ro
        .prepare<[], { quick_check: string }>('PRAGMA quick_check(5)')
        .all()
        .map((r) => r.quick_check);
    } catch (err) {
      problems = [(err as Error).message];
    }
    if (problems.length !== 1 || problems[0] !== 'ok') {
      if (verifiedStamps) forgetVerified(verifiedStamps, file);
      throw damaged(file, problems.join('; '));
    }
    return 'quick_check';
  } finally {
    ro.close();
  }
}

function damaged(file: string, detail: string): StudioError {
  const backups = backupDir(file);
  const hint = fs.existsSync(backups)
    ? `Restore the newest backup from ${backups} (copy it over the project file while the studio is closed)`
    : 'Restore the file from a backup copy';
  return new StudioError(
    'unsupported',
    `The project file ${file} is damaged (SQLite integrity check: ${detail}). It was not changed. ${hint}, ` +
      'or import the corpus into a new project.',
  );
}

/** Applies, each in its own transaction, every migration newer than the file's user_version. */
export function migrate(db: Db, list: readonly Migration[] = migrations): number {
  let version = db.pragma('user_version', { simple: true }) as number;
  // Only files openDatabase validated (new, ours, or an older project of ours) get here.
  if ((db.pragma('application_id', { simple: true }) as number) !== APPLICATION_ID) {
    db.transaction(() => db.pragma(`application_id = ${APPLICATION_ID}`)).immediate();
  }
  for (const m of list) {
    if (m.version <= version) continue;
    // The version is read again under the write lock: another process opening the same (new) file
    // at the same moment may have applied this migration since the read above.
    version = db
      .transaction(() => {
        const current = db.pragma('user_version', { simple: true }) as number;
        if (current >= m.version) return current;
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
        return m.version;
      })
      .immediate();
  }
  return version;
}

/** Where a project's backups live: a folder beside it. */
export function backupDir(file: string): string {
  return `${file}.backups`;
}

/**
 * Writes a consistent copy of the open project (`VACUUM INTO`, safe while other connections write) to
 * its backup folder and keeps the newest BACKUPS_KEPT. Returns the backup's path.
 */
export function backupProject(db: Db, file: string, reason: string): string {
  const dir = backupDir(file);
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const stem = path.basename(file).replace(/\.(sqlite|db)$/i, '');
  // Unique even when several processes open the project in the same millisecond: VACUUM INTO a
  // name another process is still writing would add its tables to that half-made copy.
  const unique = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const target = path.join(dir, `${stem}-${stamp}-${unique}-${reason}.sqlite`);
  db.prepare('VACUUM INTO ?').run(target);
  const old = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(`${stem}-`) && f.endsWith('.sqlite'))
    .sort();
  for (const f of old.slice(0, Math.max(0, old.length - BACKUPS_KEPT))) fs.rmSync(path.join(dir, f), { force: true });
  return target;
}

const DAY_MS = 24 * 3600 * 1000;

function newestBackupAgeMs(file: string): number {
  try {
    const dir = backupDir(file);
    const times = fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs);
    return times.length ? Date.now() - Math.max(...times) : Infinity;
  } catch {
    return Infinity;
  }
}

/** Full `integrity_check` of an open project, on demand: 'ok' or the problems found. */
export function integrityCheck(db: Db): string[] {
  return db
    .prepare<[], { integrity_check: string }>('PRAGMA integrity_check(20)')
    .all()
    .map((r) => r.integrity_check);
}

export { LATEST_SCHEMA_VERSION };
