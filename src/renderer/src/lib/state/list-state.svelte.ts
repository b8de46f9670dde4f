import {
  UtteranceFilter as UtteranceFilterSchema,
  type StudioClient,
  type UtteranceFilter,
  type UtteranceRow,
} from '../../../../shared/contract';
import { mapBy } from '../util/collections';
import { debounce } from '../util/debounce';
import { errorMessage } from '../util/format';

const SEARCH_DEBOUNCE_MS = 250;

/** What the list tells its owner when a response replaces the rows. */
export interface ListHooks {
  /** Just before the rows are replaced (a note being typed goes out while its row is still listed). */
  beforeRows?: () => void;
  /** The rows were replaced; `selectFirst`: a new order, start from its top. */
  onRows?: (rows: readonly UtteranceRow[], selectFirst: boolean) => void;
}

/**
 * The utterance list: the filter and the search box, the rows the core listed for them and how many
 * utterances the project has. Only the latest request's answer is shown.
 */
export class ListState {
  #rows = $state.raw<UtteranceRow[]>([]);
  #total = $state(0);
  #filter = $state<UtteranceFilter>(defaultFilter());
  #searchText = $state('');
  #loading = $state(true);
  #error = $state<string | null>(null);
  #request = 0;

  #indexById = $derived(
    mapBy(
      this.#rows,
      (r) => r.id,
      (_, i) => i,
    ),
  );
  #filtered = $derived(
    this.#filter.status !== 'all' ||
      this.#filter.labelId !== null ||
      this.#filter.speaker !== null ||
      this.#filter.maxConfidence !== null ||
      this.#filter.predictedLabelId !== null ||
      this.#filter.disagreement ||
      this.#filter.missing ||
      this.#filter.unsure ||
      this.#filter.consensus !== 'any' ||
      this.#filter.search.trim() !== '',
  );

  readonly #applySearch = debounce((text: string) => {
    this.#filter.search = text;
    void this.load();
  }, SEARCH_DEBOUNCE_MS);

  constructor(
    private readonly client: StudioClient,
    private readonly hooks: ListHooks = {},
  ) {}

  get rows(): UtteranceRow[] {
    return this.#rows;
  }
  /** Utterances in the project, whatever the filter. */
  get total(): number {
    return this.#total;
  }
  get filter(): UtteranceFilter {
    return this.#filter;
  }
  /** The search box's text; `filter.search` follows it after a pause in typing. */
  get searchText(): string {
    return this.#searchText;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get loadError(): string | null {
    return this.#error;
  }
  /** Row index by utterance id. */
  get indexById(): ReadonlyMap<number, number> {
    return this.#indexById;
  }
  /** Whether anything narrows the list (the sort does not). */
  get filtered(): boolean {
    return this.#filtered;
  }

  rowById(id: number): UtteranceRow | null {
    const index = this.#indexById.get(id);
    return index === undefined ? null : this.#rows[index]!;
  }

  /** Shows `row` in place of the listed row of its id (nothing when it is not listed). */
  replaceRow(row: UtteranceRow): void {
    const index = this.#indexById.get(row.id);
    if (index === undefined) return;
    this.#rows = this.#rows.with(index, row);
  }

  /**
   * Reloads the list for the current filter; an answer overtaken by a later request is dropped.
   * `selectFirst` is passed on to `onRows` (a new order starts from its top).
   */
  async load(options: { selectFirst?: boolean } = {}): Promise<void> {
    const request = ++this.#request;
    const filter = $state.snapshot(this.#filter);
    try {
      const { rows, total } = await this.client.listUtterances(filter);
      if (request !== this.#request) return;
      this.hooks.beforeRows?.();
      this.#rows = rows;
      this.#total = total;
      this.#error = null;
      this.hooks.onRows?.(rows, options.selectFirst ?? false);
    } catch (err) {
      if (request === this.#request) this.#error = errorMessage(err);
    } finally {
      if (request === this.#request) this.#loading = false;
    }
  }

  /**
   * The project's whole load, which fills the list: loading until `work` settles, its failure the
   * list's error.
   */
  async loadWith(work: () => Promise<unknown>): Promise<void> {
    this.#loading = true;
    try {
      await work();
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
    } finally {
      this.#loading = false;
    }
  }

  setSearch(text: string): void {
    this.#searchText = text;
    this.#applySearch(text);
  }

  /** Clears the search at once (Escape in the search box): the text and the filter it set. */
  clearSearch(): void {
    this.#applySearch.cancel();
    this.#searchText = '';
    if (this.#filter.search === '') return;
    this.#filter.search = '';
    void this.load();
  }

  setFilter(change: Partial<Omit<UtteranceFilter, 'search'>>): void {
    const reordered = change.sort !== undefined && change.sort !== this.#filter.sort;
    Object.assign(this.#filter, change);
    void this.load({ selectFirst: reordered });
  }

  clearFilters(): void {
    this.#reset();
    void this.load();
  }

  /** Another project: no rows, no filter, no search, until the next load. */
  startOver(): void {
    this.#reset();
    this.#rows = [];
  }

  /** Stops a search waiting for its pause in typing. */
  dispose(): void {
    this.#applySearch.cancel();
  }

  #reset(): void {
    this.#applySearch.cancel();
    this.#searchText = '';
    this.#filter = defaultFilter();
  }
}

/** The core's default filter (everything, in recording order), whatever fields the contract grows. */
export function defaultFilter(): UtteranceFilter {
  return UtteranceFilterSchema.parse({});
}
