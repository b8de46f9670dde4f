import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RecentProject } from '../../shared/contract';

/** How many projects the list keeps (the newest first). */
export const RECENT_KEPT = 12;

const Stored = z.object({
  version: z.literal(1),
  projects: z.array(z.object({ path: z.string().min(1), name: z.string(), openedAt: z.string() })),
});
type StoredEntry = z.infer<typeof Stored>['projects'][number];

/**
 * The recently opened projects, newest first, kept in `<studio home>/recent-projects.json` (written to
 * a temp file, fsynced, renamed over the old one, mode 0600: it names the user's files). A missing or
 * damaged file is an empty list, never an error: the list is a convenience, the projects are the data.
 */
export class RecentProjects {
  readonly file: string;

  constructor(home: string) {
    this.file = path.join(home, 'recent-projects.json');
  }

  /** The list, newest first; `exists` says whether the file is still there. */
  list(): RecentProject[] {
    return this.read().map((e) => ({ ...e, exists: fs.existsSync(e.path) }));
  }

  /** Puts `file` first (a project was opened or created). */
  touch(file: string, name: string): RecentProject[] {
    const resolved = path.resolve(file);
    const entry: StoredEntry = { path: resolved, name, openedAt: new Date().toISOString() };
    this.write([entry, ...this.read().filter((e) => e.path !== resolved)].slice(0, RECENT_KEPT));
    return this.list();
  }

  /** Takes `file` off the list (the project file itself is left alone). */
  remove(file: string): RecentProject[] {
    const resolved = path.resolve(file);
    this.write(this.read().filter((e) => e.path !== resolved));
    return this.list();
  }

  private read(): StoredEntry[] {
    try {
      const parsed = Stored.safeParse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data.projects.filter((e) => path.isAbsolute(e.path)) : [];
    } catch {
      return [];
    }
  }

  private write(projects: StoredEntry[]): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = fs.openSync(temp, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, `${JSON.stringify({ version: 1, projects }, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, this.file);
  }
}
