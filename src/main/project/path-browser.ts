import fs from 'node:fs';
import path from 'node:path';
import type { BrowseListing, BrowseRequest } from '../../shared/contract';
import { StudioError } from '../errors';

/** At most this many entries are listed per folder (`truncated` says when more were left out). */
export const MAX_BROWSE_ENTRIES = 2000;

/** A folder the browser may show, and what to call it. */
export interface BrowseRoot {
  label: string;
  path: string;
}

/**
 * The web mode's folder and file picker, on the host's side: lists the folders and the matching files
 * of one folder, never a file's contents. Confined to `roots` (the user's home folder and the folders of
 * the projects they opened): a path is judged by where it really is, after `..` and every symbolic link
 * are resolved, so neither climbs out; entries whose link leads outside are not listed.
 */
export class PathBrowser {
  /** The roots as given (labels, paths to show) and as they really are (to compare against). */
  private readonly roots: { root: BrowseRoot; real: string }[];

  constructor(roots: readonly BrowseRoot[]) {
    const seen = new Set<string>();
    this.roots = [];
    for (const root of roots) {
      const real = realFolder(root.path);
      if (real === null || seen.has(real)) continue;
      seen.add(real);
      this.roots.push({ root: { label: root.label, path: real }, real });
    }
  }

  /** Whether `real` (a resolved path) is a root or inside one. */
  allows(real: string): boolean {
    return this.roots.some(
      ({ real: root }) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep),
    );
  }

  /** Lists a folder (default: the first root): its sub-folders and, for `select: 'file'`, its matching files. */
  list(request: BrowseRequest): BrowseListing {
    const first = this.roots[0];
    if (!first) throw new StudioError('forbidden', 'There is no folder the studio may browse (no home folder found)');
    const asked = request.path?.trim() ? path.resolve(first.real, request.path.trim()) : first.real;
    let real: string;
    try {
      real = fs.realpathSync(asked);
    } catch {
      throw new StudioError('not_found', `No such folder: ${asked}`);
    }
    if (!this.allows(real)) throw this.outside(asked, real);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(real);
    } catch {
      throw new StudioError('not_found', `No such folder: ${asked}`);
    }
    if (!stat.isDirectory()) throw new StudioError('invalid_request', `${asked} is a file, not a folder`);
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(real, { withFileTypes: true });
    } catch (err) {
      throw new StudioError('forbidden', `Cannot read the folder ${real}: ${(err as Error).message}`);
    }
    const extensions = request.extensions.map((e) => e.toLowerCase());
    const entries: BrowseListing['entries'] = [];
    for (const d of dirents) {
      if (d.name.startsWith('.')) continue;
      const full = path.join(real, d.name);
      let kind: 'folder' | 'file' | null = d.isDirectory() ? 'folder' : d.isFile() ? 'file' : null;
      if (d.isSymbolicLink()) {
        // A link is listed as what it leads to, and only when that is inside the roots.
        try {
          const target = fs.realpathSync(full);
          if (!this.allows(target)) continue;
          const s = fs.statSync(target);
          kind = s.isDirectory() ? 'folder' : s.isFile() ? 'file' : null;
        } catch {
          continue;
        }
      }
      if (kind === 'file') {
        if (request.select !== 'file') continue;
        if (extensions.length && !extensions.includes(path.extname(d.name).toLowerCase())) continue;
      }
      if (kind) entries.push({ name: d.name, path: full, kind });
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
    const parent = path.dirname(real);
    return {
      path: real,
      parent: parent !== real && this.allows(parent) ? parent : null,
      entries: entries.slice(0, MAX_BROWSE_ENTRIES),
      truncated: entries.length > MAX_BROWSE_ENTRIES,
      roots: this.roots.map((r) => r.root),
    };
  }

  private outside(asked: string, real: string): StudioError {
    const where = this.roots.map((r) => r.root.path).join(', ');
    const via = real === path.resolve(asked) ? '' : ` (it leads to ${real})`;
    return new StudioError(
      'forbidden',
      `${asked} is outside the folders the studio may browse${via}: your home folder and the folders of ` +
        `projects you opened (${where}). Type the full path into the field instead.`,
    );
  }
}

/** The real path of a folder (of a file: its folder), or null when there is none. */
function realFolder(p: string): string | null {
  try {
    const real = fs.realpathSync(p);
    return fs.statSync(real).isDirectory() ? real : path.dirname(real);
  } catch {
    return null;
  }
}
