import type {
  ImportPreview,
  ImportReport,
  ImportRequest,
  JobStatus,
  StudioClient,
  TierRole,
} from '../../../../shared/contract';
import { errorMessage } from '../util/format';
import { JobRun } from './job-run.svelte';
import type { JobsState } from './jobs.svelte';

export type ImportFormat = NonNullable<ImportRequest['format']>;

/** The Import dialog's form, as typed and chosen. */
export interface ImportForm {
  path: string;
  format: ImportFormat | 'auto';
  fourClass: 'all' | 'drop' | 'keep';
  media: string;
}

/**
 * One opening of the Import dialog: the preview of what an import would read (and the tier roles it
 * offers, which the user may change), then the import job it starts and follows to its report. The
 * list, labels and counts follow the core's events (utterancesChanged, labelsChanged), not this.
 */
export class ImportState {
  readonly #run: JobRun<'import'>;
  #preview = $state.raw<ImportPreview | null>(null);
  /** The roles chosen in the preview's tier table (sent only once one was changed). */
  #roles = $state.raw<Record<string, TierRole | ''>>({});
  #rolesEdited = $state(false);
  #previewing = $state(false);
  #previewError = $state<string | null>(null);

  constructor(
    private readonly client: StudioClient,
    jobs: JobsState,
  ) {
    this.#run = new JobRun(jobs, 'import');
  }

  get preview(): ImportPreview | null {
    return this.#preview;
  }
  /** Each tier's role as chosen ('' = ignored). */
  get roles(): Readonly<Record<string, TierRole | ''>> {
    return this.#roles;
  }
  get rolesEdited(): boolean {
    return this.#rolesEdited;
  }
  get previewing(): boolean {
    return this.#previewing;
  }
  get previewError(): string | null {
    return this.#previewError;
  }
  get busy(): boolean {
    return this.#run.busy;
  }
  /** Asked for, not answered yet. */
  get starting(): boolean {
    return this.#run.phase === 'starting';
  }
  get cancelled(): boolean {
    return this.#run.phase === 'cancelled';
  }
  /** The job's live status while it runs. */
  get status(): JobStatus | undefined {
    return this.#run.status;
  }
  /** The core's refusal, or why the job failed. */
  get error(): string | null {
    return this.#run.error;
  }
  get report(): ImportReport | null {
    return this.#run.result;
  }

  /** The desktop's native folder chooser; null in web mode (PathField's web picker then). */
  get chooseFolder(): (() => Promise<string | null>) | null {
    return this.client.chooseFolder;
  }

  /** The format the options apply to: the one chosen, else the one the preview recognised. */
  effectiveFormat(format: ImportForm['format']): ImportFormat | null {
    return format === 'auto' ? (this.#preview?.format ?? null) : format;
  }

  /** The request the form makes: tier roles only once one was changed, options only for their format. */
  request(form: ImportForm): ImportRequest {
    const effective = this.effectiveFormat(form.format);
    const tiers = this.#rolesEdited
      ? Object.fromEntries(Object.entries(this.#roles).filter((e): e is [string, TierRole] => e[1] !== ''))
      : undefined;
    return {
      path: form.path.trim(),
      format: form.format === 'auto' ? undefined : form.format,
      tiers,
      fourClass: effective === 'iemocap' && form.fourClass !== 'all' ? form.fourClass : undefined,
      media: effective === 'meld' && form.media.trim() ? form.media.trim() : undefined,
    };
  }

  /** A new path or format makes the preview (and the tier roles it offered) stale. */
  reset(): void {
    this.#preview = null;
    this.#previewError = null;
    this.#roles = {};
    this.#rolesEdited = false;
  }

  /** Gives a tier of the preview a role ('' = ignored): from now on the request names the roles. */
  setRole(tier: string, role: TierRole | ''): void {
    this.#roles = { ...this.#roles, [tier]: role };
    this.#rolesEdited = true;
  }

  /** Asks what the form would import; nothing without a path, while previewing or importing. */
  async showPreview(form: ImportForm): Promise<void> {
    if (!form.path.trim() || this.#previewing || this.#run.busy) return;
    this.#previewing = true;
    this.#previewError = null;
    try {
      const p = await this.client.previewImport(this.request(form));
      this.#preview = p;
      if (!this.#rolesEdited) this.#roles = Object.fromEntries(p.tiers.map((t) => [t.name, t.role ?? '']));
    } catch (err) {
      this.#preview = null;
      this.#previewError = errorMessage(err);
    } finally {
      this.#previewing = false;
    }
  }

  /** Imports what the form says and resolves when the job has ended; nothing without a path or while one runs. */
  async start(form: ImportForm): Promise<void> {
    if (!form.path.trim() || this.#run.busy) return;
    await this.#run.start(() => this.client.startImport(this.request(form)));
  }

  async cancel(): Promise<void> {
    await this.#run.cancel();
  }
}
