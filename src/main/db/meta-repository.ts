import type { Db } from './open-database';

/** Key/value settings stored in the project file. */
export class MetaRepository {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    const row = this.db.prepare<[string], { value: string }>('SELECT value FROM project_meta WHERE key = ?').get(key);
    return row?.value;
  }

  set(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM project_meta WHERE key = ?').run(key);
  }
}
