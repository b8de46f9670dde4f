import type { BrowseListing, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/**
 * One web-mode picker's browsing: the host lists one folder at a time (names only), confined to the
 * home folder and the folders of the projects opened; a path outside is refused with why, and the
 * picker stays where it was. Made per opening of the picker.
 */
export class PathBrowser {
  #listing = $state.raw<BrowseListing | null>(null);
  #error = $state<string | null>(null);
  #loading = $state(false);
  #chosenFile = $state<string | null>(null);

  constructor(
    private readonly client: StudioClient,
    /** What is picked: a folder, or a file with one of `extensions` (none: any file). */
    readonly select: 'folder' | 'file' = 'folder',
    private readonly extensions: string[] = [],
  ) {}

  /** The folder shown. */
  get listing(): BrowseListing | null {
    return this.#listing;
  }
  /** Why the latest folder asked for could not be listed. */
  get error(): string | null {
    return this.#error;
  }
  get loading(): boolean {
    return this.#loading;
  }
  /** The file clicked in the folder shown (file pickers). */
  get chosenFile(): string | null {
    return this.#chosenFile;
  }
  /** What "Choose" picks: the file clicked, or the folder shown. */
  get choice(): string | null {
    return this.select === 'file' ? this.#chosenFile : (this.#listing?.path ?? null);
  }

  /** Lists `path` (none: the home folder); false, with the core's refusal as the error, when it cannot. */
  async go(path?: string): Promise<boolean> {
    this.#loading = true;
    try {
      this.#listing = await this.client.browsePath({ path, select: this.select, extensions: this.extensions });
      this.#chosenFile = null;
      this.#error = null;
      return true;
    } catch (err) {
      this.#error = errorMessage(err);
      return false;
    } finally {
      this.#loading = false;
    }
  }

  /**
   * Opens at `start`: a folder, or a file whose folder is shown; a start that cannot be listed falls
   * back to its folder, then to the home folder, keeping why the start was refused (unless it is
   * simply gone).
   */
  async open(start?: string): Promise<void> {
    const from = start?.trim();
    if (from && (await this.go(from))) return;
    const folder = from ? from.replace(/[\\/][^\\/]*$/, '') : '';
    if (folder && (await this.go(folder))) return;
    const kept = this.#error;
    await this.go();
    if (from && kept && !kept.includes('No such')) this.#error = kept;
  }

  /** Clicks a file of the folder shown. */
  chooseFile(path: string): void {
    this.#chosenFile = path;
  }
}
