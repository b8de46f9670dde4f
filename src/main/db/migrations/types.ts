import type { Database } from 'better-sqlite3';

/** One schema step. `version` is the PRAGMA user_version the database has after `up` ran. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
