import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations';
import type { Migration } from './migrations/types';

export type Db = Database.Database;

export interface OpenOptions {
  /** Create the file if it does not exist (default true). */
  create?: boolean;
  /** For tests: the migrations to apply (default: all). */
  migrations?: readonly Migration[];
}

/**
 * Opens (or creates) a project file: WAL, foreign keys, full fsync on commit, then migrations up to
 * the newest this app knows. A database written by a newer app is refused, untouched.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const create = options.create ?? true;
  const list = options.migrations ?? migrations;
  const exists = fs.existsSync(file);
  if (!exists && !create) throw new StudioError('not_found', `Project file not found: ${file}`);
  if (!exists) fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, {
      fileMustExist: !create,
      nativeBinding: process.env.WAVFUSION_SQLITE_BINDING || undefined,
    });
  } catch (err) {
    throw new StudioError('unsupported', `Cannot open project ${file}: ${(err as Error).message}`);
  }
  try {
    // A non-database file fails here with SQLITE_NOTADB.
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = list.length ? list[list.length - 1]!.version : 0;
    if (version > latest) {
      throw new StudioError(
        'unsupported',
        `This project was saved by a newer version of WavFusion Studio (project schema ${version}, ` +
          `this app understands up to ${latest}). Update the app to open it; the file was not changed.`,
      );
    }
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before it is acknowledged, so an acknowledged label survives a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, list);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StudioError) throw err;
    const message = (err as Error).message;
    if (/not a database|file is encrypted/i.test(message)) {
      throw new StudioError('unsupported', `${file} is not a WavFusion Studio project (not an SQLite database).`);
    }
    throw err;
  }
}

/** Applies, each in its own transaction, every migration newer than the file's user_version. */
export function migrate(db: Db, list: readonly Migration[] = migrations): number {
  let version = db.pragma('user_version', { simple: true }) as number;
  for (const m of list) {
    if (m.version <= version) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    version = m.version;
  }
  return version;
}

export { LATEST_SCHEMA_VERSION };
