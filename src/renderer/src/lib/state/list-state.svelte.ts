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
/** Rows asked for at a time: the first screen and each further page. */
export const PAGE_SIZE = 200;

/** What the list tells its owner when a response replaces the rows. */
export interface ListHooks {
  /** Just before the rows are replaced (a note being typed goes out while its row is still listed). */
  beforeRows?: () => void;
  /** The rows were replaced; `selectFirst`: a new order, start from its top. */
  onRows?: (rows: readonly UtteranceRow[], selectFirst: boolean) => void;
}

/**
 * The utterance list: the filter and the search box, the rows the core listed for them and how many
 * utterances the project has. The rows come a page at a time: the first page on a load, the next
 * ones as the list scrolls or the keyboard moves past what is loaded (`loadThrough`); the loaded rows
 * are always the list's first ones, in the core's order. Only the latest load's answers are shown: a
 * page asked for before a filter or sort change is dropped.
 */
export class ListState {
  #rows = $state.raw<UtteranceRow[]>([]);
  #total = $state(0);
  #matching = $state(0);
  #filter = $state<UtteranceFilter>(defaultFilter());
  #searchText = $state('');
  #loading = $state(true);
  #error = $state<string | null>(null);
  #request = 0;
  /** The filter the loaded rows were listed for (further pages ask with it). */
  #listed: UtteranceFilter = defaultFilter();
  /** The next page on its way, shared by whoever asks for it meanwhile. */
  #more: Promise<boolean> | null = null;

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
  /** Utterances the filter matches: the list's length once every page is loaded. */
  get matching(): number {
    return this.#matching;
  }
  /** Whether the filter matches rows not loaded yet. */
  get hasMore(): boolean {
    return this.#rows.length < this.#matching;
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
   * Lists the current filter again from its first page; an answer overtaken by a later request is
   * dropped. `selectFirst` is passed on to `onRows` (a new order starts from its top); `keepLoaded`
   * asks for as many rows as are loaded now in one request (a refresh after a change keeps the rows
   * scrolled to, and the selection among them).
   */
  async load(options: { selectFirst?: boolean; keepLoaded?: boolean } = {}): Promise<void> {
    const request = ++this.#request;
    this.#more = null;
    const filter = $state.snapshot(this.#filter);
    const limit = options.keepLoaded ? Math.max(PAGE_SIZE, this.#rows.length) : PAGE_SIZE;
    try {
      const { rows, total, filtered } = await this.client.listUtterances({ ...filter, offset: 0, limit });
      if (request !== this.#request) return;
      this.hooks.beforeRows?.();
      this.#listed = filter;
      this.#rows = rows;
      this.#total = total;
      this.#matching = Math.max(filtered, rows.length);
      this.#error = null;
      this.hooks.onRows?.(rows, options.selectFirst ?? false);
    } catch (err) {
      if (request === this.#request) this.#error = errorMessage(err);
    } finally {
      if (request === this.#request) this.#loading = false;
    }
  }

  /** Loads the next page, unless everything is loaded or it is on its way. */
  loadMore(): Promise<boolean> {
    return this.loadThrough(this.#rows.length + 1);
  }

  /**
   * Loads pages until the first `count` rows (or all there are) are loaded. True when they are, for
   * the list as it was asked (false: a failure, or a reload replaced the list meanwhile).
   */
  async loadThrough(count: number): Promise<boolean> {
    const request = this.#request;
    while (request === this.#request && this.#rows.length < Math.min(count, this.#matching)) {
      this.#more ??= this.#fetchMore(request, count);
      if (!(await this.#more)) return false;
    }
    return request === this.#request;
  }

  async #fetchMore(request: number, count: number): Promise<boolean> {
    const offset = this.#rows.length;
    const want = Math.min(count, this.#matching) - offset;
    const limit = Math.ceil(want / PAGE_SIZE) * PAGE_SIZE;
    try {
      const page = await this.client.listUtterances({ ...this.#listed, offset, limit });
      if (request !== this.#request) return false;
      // Rows that moved between pages since the first one are listed once, where first seen.
      const listed = this.#indexById;
      const fresh = page.rows.filter((r) => !listed.has(r.id));
      this.#rows = [...this.#rows, ...fresh];
      this.#total = page.total;
      this.#matching = Math.max(page.filtered, this.#rows.length);
      // Nothing new where the total promised more: the list shrank; stop asking.
      if (fresh.length === 0) this.#matching = this.#rows.length;
      return fresh.length > 0;
    } catch (err) {
      if (request === this.#request) this.#error = errorMessage(err);
      return false;
    } finally {
      if (request === this.#request) this.#more = null;
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
    this.#request++;
    this.#more = null;
    this.#rows = [];
    this.#matching = 0;
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
