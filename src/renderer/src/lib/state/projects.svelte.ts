import type { NewProjectRequest, ProjectInfo, RecentProject, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/**
 * One opening of the Projects dialog: the recent projects, renaming this one, and switching to
 * another (a recent one, a project file, a new project). A switch first finishes what this project
 * still has in flight; every window then hears `projectOpened` and reloads. A refusal (a file that
 * is not a project, a name taken) is kept as the message of the part of the dialog it came from,
 * and nothing changes.
 */
export class ProjectsState {
  #recent = $state.raw<RecentProject[]>([]);
  #recentError = $state<string | null>(null);
  #renameError = $state<string | null>(null);
  #openError = $state<string | null>(null);
  #newError = $state<string | null>(null);
  #busy = $state(false);

  constructor(
    private readonly client: StudioClient,
    /** Finishes what this project still has in flight (a note being typed) before a switch. */
    private readonly beforeSwitch: () => Promise<void>,
  ) {}

  get recent(): RecentProject[] {
    return this.#recent;
  }
  /** Why the recent list could not be read or changed, or a recent project opened. */
  get recentError(): string | null {
    return this.#recentError;
  }
  get renameError(): string | null {
    return this.#renameError;
  }
  /** Why the project file could not be opened. */
  get openError(): string | null {
    return this.#openError;
  }
  /** Why the new project could not be created. */
  get newError(): string | null {
    return this.#newError;
  }
  /** A rename or a switch is under way. */
  get busy(): boolean {
    return this.#busy;
  }
  /** The desktop's native project-file dialogs; null in web mode (the host's picker then). */
  get chooseFile(): ((mode: 'open' | 'new') => Promise<string | null>) | null {
    return this.client.chooseProjectFile;
  }

  async loadRecent(): Promise<void> {
    try {
      this.#recent = await this.client.listRecentProjects({});
      this.#recentError = null;
    } catch (err) {
      this.#recentError = errorMessage(err);
    }
  }

  /** Renames this project (to `name`, when it is another one) and reads the recent list again. */
  async rename(name: string, current: string | null): Promise<void> {
    if (!name.trim() || name.trim() === current) return;
    this.#busy = true;
    try {
      await this.client.renameProject({ name });
      this.#renameError = null;
      await this.loadRecent();
    } catch (err) {
      this.#renameError = errorMessage(err);
    } finally {
      this.#busy = false;
    }
  }

  /** Takes a project off the recent list (the file stays). */
  async forget(path: string): Promise<void> {
    try {
      this.#recent = await this.client.forgetRecentProject({ path });
    } catch (err) {
      this.#recentError = errorMessage(err);
    }
  }

  /** Opens a recent project; true when the studio switched to it. */
  async openRecent(path: string): Promise<boolean> {
    return await this.#switchTo(
      () => this.client.openProject({ path }),
      (m) => (this.#recentError = m),
    );
  }

  /** Opens a project file (trimmed); true when the studio switched to it. */
  async openFile(path: string): Promise<boolean> {
    const target = path.trim();
    if (!target) return false;
    return await this.#switchTo(
      () => this.client.openProject({ path: target }),
      (m) => (this.#openError = m),
    );
  }

  /** Creates a project (name and path trimmed) and opens it; true when the studio switched to it. */
  async create(request: NewProjectRequest): Promise<boolean> {
    const path = request.path.trim();
    const name = request.name.trim();
    if (!path || !name) return false;
    return await this.#switchTo(
      () => this.client.newProject({ ...request, path, name }),
      (m) => (this.#newError = m),
    );
  }

  async #switchTo(run: () => Promise<ProjectInfo>, setError: (message: string | null) => void): Promise<boolean> {
    this.#busy = true;
    try {
      await this.beforeSwitch();
      await run();
      setError(null);
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    } finally {
      this.#busy = false;
    }
  }
}
