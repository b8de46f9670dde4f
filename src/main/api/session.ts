import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PROJECT_EXTENSION,
  type BrowseListing,
  type BrowseRequest,
  type ProjectInfo,
  type RecentProject,
} from '../../shared/contract';
import { StudioError } from '../errors';
import { StudioEvents, type StudioListener } from '../events';
import { studioDataDir } from '../paths';
import { PathBrowser, type BrowseRoot } from '../project/path-browser';
import { RecentProjects } from '../project/recent-projects';
import { Studio } from './studio';

export interface SessionOptions {
  /** The studio's own folder, where the recent list is kept (default: $WAVFUSION_HOME or the XDG data folder). */
  home?: string;
  /** The user's home folder: where the path browser starts, and what it is confined to (with the projects' folders). */
  userHome?: string;
  /** Put the first project on the recent list (the app does; a test wrapping a Studio does not). */
  remember?: boolean;
}

const sessions = new WeakMap<Studio, StudioSession>();

/**
 * What a window (desktop) or a host (web) is attached to: the open project, which the user may switch
 * to another one. Switching opens the new project first (with the same checks, migrations and backups as
 * at launch), so that a file that is not a WavFusion project, or is newer than the app, is refused while
 * the open project stays open; only then is the old project closed (jobs stopped, its database closed
 * cleanly) and every window told with `projectOpened`. Running jobs refuse a switch, so nothing is lost.
 *
 * The session's event bus relays the open project's domain events, so transports subscribe once.
 */
export class StudioSession {
  readonly recent: RecentProjects;
  readonly userHome: string;
  private current: Studio;
  private readonly bus = new StudioEvents();
  private detach: () => void;
  private switching = false;

  constructor(studio: Studio, options: SessionOptions = {}) {
    this.current = studio;
    this.recent = new RecentProjects(options.home ?? studioDataDir());
    this.userHome = path.resolve(options.userHome ?? os.homedir());
    this.detach = this.attach(studio);
    sessions.set(studio, this);
    if (options.remember) this.remember(studio);
  }

  /** The session of `target`: itself, the session a Studio was opened in, or one made (once) around a bare Studio. */
  static of(target: Studio | StudioSession): StudioSession {
    if (target instanceof StudioSession) return target;
    let session = sessions.get(target);
    if (!session) sessions.set(target, (session = new StudioSession(target)));
    return session;
  }

  /** The open project. Read it per request: it changes when the user opens another project. */
  get studio(): Studio {
    return this.current;
  }

  subscribe(listener: StudioListener): () => void {
    return this.bus.subscribe(listener);
  }

  /** Opens an existing project file instead of the open one. */
  async open(file: string): Promise<ProjectInfo> {
    const resolved = path.resolve(this.userHome, file);
    if (sameFile(resolved, this.current.store.file)) {
      this.remember(this.current);
      return this.current.info();
    }
    if (!fs.existsSync(resolved)) throw new StudioError('not_found', `Project file not found: ${resolved}`);
    if (fs.statSync(resolved).isDirectory())
      throw new StudioError('invalid_request', `${resolved} is a folder: choose a project file (.sqlite) in it`);
    return this.switchTo(() => Studio.load(resolved, { create: false }), 'opened');
  }

  /**
   * Creates a project file (refused where a file is already there: that is for Open) named `name`, with
   * the default labels or the open project's label set and guidelines, and opens it.
   */
  async create(request: { path: string; name: string; labels: 'default' | 'current' }): Promise<ProjectInfo> {
    let resolved = path.resolve(this.userHome, request.path);
    if (path.extname(resolved) === '') resolved += PROJECT_EXTENSION;
    if (fs.existsSync(resolved))
      throw new StudioError(
        'conflict',
        `${resolved} already exists: open it, or choose another file name for the new project`,
      );
    const parent = path.dirname(resolved);
    if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory())
      throw new StudioError('not_found', `No such folder: ${parent}`);
    const labels = request.labels === 'current' ? this.current.store.labels.list() : null;
    return this.switchTo(async () => {
      const next = await Studio.load(resolved, { create: true, name: request.name.trim() });
      try {
        if (labels) next.labels.replaceAll(labels);
      } catch (err) {
        await next.close();
        throw err;
      }
      return next;
    }, 'created');
  }

  rename(name: string): ProjectInfo {
    const info = this.current.rename(name);
    this.remember(this.current);
    return info;
  }

  listRecent(): RecentProject[] {
    return this.recent.list();
  }

  forgetRecent(file: string): RecentProject[] {
    return this.recent.remove(path.resolve(this.userHome, file));
  }

  /** The web mode's picker: one folder, confined to the home folder and the folders of the projects opened. */
  browse(request: BrowseRequest): BrowseListing {
    return new PathBrowser(this.browseRoots()).list(request);
  }

  browseRoots(): BrowseRoot[] {
    const roots: BrowseRoot[] = [{ label: 'Home', path: this.userHome }];
    roots.push({ label: 'This project', path: path.dirname(this.current.store.file) });
    for (const r of this.recent.list()) if (r.exists) roots.push({ label: r.name, path: path.dirname(r.path) });
    return roots;
  }

  /** Closes the open project (the app is quitting, the host stopping). */
  async close(): Promise<void> {
    this.detach();
    await this.current.close();
  }

  private async switchTo(open: () => Promise<Studio>, reason: 'opened' | 'created'): Promise<ProjectInfo> {
    if (this.switching) throw new StudioError('conflict', 'Another project is being opened; wait for it');
    const running = this.current.jobs.list().filter((j) => j.state === 'running');
    if (running.length)
      throw new StudioError(
        'conflict',
        `${running.map((j) => `"${j.title}"`).join(', ')} is still running in ${this.current.store.name}: ` +
          'cancel it or let it finish before opening another project',
      );
    this.switching = true;
    try {
      // The new project first: if it cannot be opened, the open one stays as it is.
      const next = await open();
      const previous = this.current;
      this.detach();
      try {
        await previous.close();
      } catch (err) {
        console.error(`wavfusion: closing ${previous.store.file}: ${(err as Error).message}`);
      }
      this.current = next;
      sessions.set(next, this);
      this.detach = this.attach(next);
      this.remember(next);
      const info = next.info();
      this.bus.emit('projectOpened', { info, reason });
      return info;
    } finally {
      this.switching = false;
    }
  }

  private attach(studio: Studio): () => void {
    return studio.subscribe((event, payload) => this.bus.emit(event, payload));
  }

  private remember(studio: Studio): void {
    try {
      this.recent.touch(studio.store.file, studio.store.name);
    } catch (err) {
      // The list is a convenience: a read-only home folder must not stop a project from opening.
      console.error(`wavfusion: the recent-projects list could not be saved: ${(err as Error).message}`);
    }
  }
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}
