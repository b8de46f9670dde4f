import {
  UtteranceFilter as UtteranceFilterSchema,
  type StudioClient,
  type UtteranceFilter,
  type UtteranceRow,
} from '../../../../shared/contract';
import { debounce } from '../util/debounce';
import { errorMessage } from '../util/format';
import {
  evicted,
  indexById,
  loadedRows,
  NO_PAGES,
  ofLoad,
  pageHolding,
  PagesInFlight,
  pagesCovering,
  runsOf,
  withRow,
  withRun,
  type Pages,
} from './list-pages';

const SEARCH_DEBOUNCE_MS = 250;
/** Rows asked for at a time: each page of the list. */
export const PAGE_SIZE = 200;
/** Pages kept at most; the ones farthest from the view go first (never the selection's). */
export const MAX_PAGES = 8;
/** Rows around the view that are loaded too, so scrolling on finds them there. */
export const VIEW_MARGIN_ROWS = 50;

/** What the list tells its owner when a response replaces the rows. */
export interface ListHooks {
  /** Just before the rows are replaced (a note being typed goes out while its row is still listed). */
  beforeRows?: () => void;
  /** The rows were replaced (`rows`: the loaded ones, in order); `selectFirst`: a new order, start from its top. */
  onRows?: (rows: readonly UtteranceRow[], selectFirst: boolean) => void;
  /** The utterance whose page stays loaded whatever is scrolled to (the selection). */
  keep?: () => number | null;
}

/**
 * The utterance list: the filter and the search box, and the rows the core lists for them, kept by
 * index. The list is `matching` rows long (the core's filtered count); only pages of `PAGE_SIZE` rows
 * are loaded: those the view (plus a margin) shows, those the keyboard moves to (`loadIndex`) and the
 * selection's. At most `MAX_PAGES` are kept, the farthest from the view dropped first. A refresh
 * after a core event asks again for the pages in view and the selection's (others are dropped). Only
 * the latest load's answers are shown: a page asked for before a filter or sort change is dropped.
 */
export class ListState {
  /** Loaded pages by page number (offset / PAGE_SIZE). */
  #pages = $state.raw<Pages>(NO_PAGES);
  #total = $state(0);
  #matching = $state(0);
  #filter = $state<UtteranceFilter>(defaultFilter());
  #searchText = $state('');
  #loading = $state(true);
  #error = $state<string | null>(null);
  /** The latest load; pages and answers of earlier ones are stale. */
  #request = 0;
  /** The filter of the latest load (pages ask with it). */
  #listed: UtteranceFilter = defaultFilter();
  /** Pages on their way for the latest load, shared by whoever asks for them meanwhile. */
  readonly #inflight = new PagesInFlight();
  /** The rows on screen (first, last index), as the list last said; null before it did. */
  #view: { first: number; last: number } | null = null;
  /** Filling the view: one request at a time, then again for where the view is by then. */
  #filling = false;

  #loadedRows = $derived(loadedRows(this.#pages));
  #indexById = $derived(indexById(this.#pages, PAGE_SIZE));
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

  /** The loaded rows, in list order (not indexed by list position: see `rowAt`). */
  get loadedRows(): UtteranceRow[] {
    return this.#loadedRows;
  }
  /** Utterances in the project, whatever the filter. */
  get total(): number {
    return this.#total;
  }
  /** Utterances the filter matches: the list's length, loaded or not. */
  get matching(): number {
    return this.#matching;
  }
  /** How many pages are loaded now. */
  get pageCount(): number {
    return this.#pages.size;
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
  /** List index by utterance id, for the loaded rows. */
  get indexById(): ReadonlyMap<number, number> {
    return this.#indexById;
  }
  /** Whether anything narrows the list (the sort does not). */
  get filtered(): boolean {
    return this.#filtered;
  }

  /** The row at list index `index`; undefined while its page is not loaded. */
  rowAt(index: number): UtteranceRow | undefined {
    if (index < 0 || index >= this.#matching) return undefined;
    const page = Math.floor(index / PAGE_SIZE);
    return this.#pages.get(page)?.rows[index - page * PAGE_SIZE];
  }

  rowById(id: number): UtteranceRow | null {
    const index = this.#indexById.get(id);
    return index === undefined ? null : (this.rowAt(index) ?? null);
  }

  /** Shows `row` in place of the listed row of its id (nothing when it is not loaded). */
  replaceRow(row: UtteranceRow): void {
    const index = this.#indexById.get(row.id);
    if (index !== undefined) this.#pages = withRow(this.#pages, index, row, PAGE_SIZE);
  }

  /**
   * The rows `first`..`last` are on screen: their pages (and those within `VIEW_MARGIN_ROWS`) are
   * loaded, one request at a time; pages far from them may be dropped.
   */
  setView(first: number, last: number): void {
    this.#view = { first, last };
    void this.#fillView();
  }

  /**
   * Loads the page holding list index `index` (nothing when loaded). True once it is loaded for the
   * list as it was asked (false: a failure, or a reload replaced the list meanwhile).
   */
  async loadIndex(index: number): Promise<boolean> {
    const request = this.#request;
    if (index < 0 || index >= this.#matching) return true;
    const page = Math.floor(index / PAGE_SIZE);
    if (!this.#pages.has(page) || this.#pages.get(page)!.load !== request) {
      const ok = await (this.#inflight.get(page) ?? this.#fetch(request, page, 1));
      if (!ok) return false;
    }
    return request === this.#request;
  }

  /**
   * Lists the current filter again; an answer overtaken by a later request is dropped. A new filter
   * starts from its first page; `keepLoaded` (a refresh after a change) asks again for the pages in
   * view and the selection's, in one request per run of pages, and drops the others. `selectFirst` is
   * passed on to `onRows` (a new order starts from its top).
   */
  async load(options: { selectFirst?: boolean; keepLoaded?: boolean } = {}): Promise<void> {
    const request = ++this.#request;
    this.#inflight.clear();
    const filter = $state.snapshot(this.#filter);
    this.#listed = filter;
    const runs = runsOf(options.keepLoaded ? this.#refreshPages() : [0]);
    const all = Promise.all(
      runs.map(([first, count]) =>
        this.client.listUtterances({ ...filter, offset: first * PAGE_SIZE, limit: count * PAGE_SIZE }),
      ),
    );
    this.#inflight.track(
      runs.flatMap(([first, count]) => pagesCovering(first * PAGE_SIZE, (first + count) * PAGE_SIZE - 1, PAGE_SIZE)),
      all.then(
        () => request === this.#request,
        () => false,
      ),
    );
    try {
      const answers = await all;
      if (request !== this.#request) return;
      this.hooks.beforeRows?.();
      let pages = ofLoad(this.#pages, request); // pages the view asked for meanwhile stay
      let matching = answers.at(-1)!.filtered;
      runs.forEach(([first, count], i) => {
        ({ pages, matching } = withRun(
          pages,
          { first, count, rows: answers[i]!.rows, load: request },
          matching,
          PAGE_SIZE,
        ));
      });
      this.#total = answers.at(-1)!.total;
      this.#matching = matching;
      this.#pages = this.#evict(pages, 0);
      this.#error = null;
      this.hooks.onRows?.(this.#loadedRows, options.selectFirst ?? false);
    } catch (err) {
      if (request === this.#request) this.#error = errorMessage(err);
    } finally {
      if (request === this.#request) this.#loading = false;
    }
    void this.#fillView();
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
    this.#inflight.clear();
    this.#pages = NO_PAGES;
    this.#matching = 0;
    this.#view = null;
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

  /** Pages a refresh asks for: those in view (with the margin) and the selection's; the first without a view. */
  #refreshPages(): number[] {
    const pages = this.#viewPages();
    const kept = this.#keptPage();
    if (kept !== undefined && !pages.includes(kept)) pages.push(kept);
    return pages.length ? pages.sort((a, b) => a - b) : [0];
  }

  /** The selection's page, if loaded. */
  #keptPage(): number | undefined {
    const id = this.hooks.keep?.();
    return id === null || id === undefined ? undefined : pageHolding(this.#pages, id);
  }

  /** Page numbers the view needs (none before the list said what it shows). */
  #viewPages(): number[] {
    if (!this.#view) return [];
    const first = Math.max(0, this.#view.first - VIEW_MARGIN_ROWS);
    const last = Math.min(this.#matching - 1, this.#view.last + VIEW_MARGIN_ROWS);
    return pagesCovering(first, last, PAGE_SIZE);
  }

  async #fillView(): Promise<void> {
    if (this.#filling) return;
    this.#filling = true;
    try {
      for (;;) {
        const request = this.#request;
        const missing = this.#viewPages().filter((p) => !this.#pages.has(p) && !this.#inflight.has(p));
        if (missing.length === 0) return;
        // One request for the run from the first missing page to the last (the view spans a few).
        const first = missing[0]!;
        const ok = await this.#fetch(request, first, missing.at(-1)! - first + 1);
        // A failure stops here (said as the list's error); a page overtaken by a reload: look again.
        if (!ok && request === this.#request) return;
      }
    } finally {
      this.#filling = false;
    }
  }

  /** Asks for `count` pages from page `first`, for load `request`; true when they were stored. */
  #fetch(request: number, first: number, count: number): Promise<boolean> {
    const done = this.#fetchRun(request, first, count);
    this.#inflight.track(pagesCovering(first * PAGE_SIZE, (first + count) * PAGE_SIZE - 1, PAGE_SIZE), done);
    return done;
  }

  async #fetchRun(request: number, first: number, count: number): Promise<boolean> {
    try {
      const answer = await this.client.listUtterances({
        ...this.#listed,
        offset: first * PAGE_SIZE,
        limit: count * PAGE_SIZE,
      });
      if (request !== this.#request) return false;
      const { pages, matching } = withRun(
        this.#pages,
        { first, count, rows: answer.rows, load: request },
        answer.filtered,
        PAGE_SIZE,
      );
      this.#total = answer.total;
      this.#matching = matching;
      this.#pages = this.#evict(pages, first);
      return true;
    } catch (err) {
      if (request === this.#request) this.#error = errorMessage(err);
      return false;
    }
  }

  /** At most `MAX_PAGES` pages: the farthest from the view (else from page `near`) go first, never the view's or the selection's. */
  #evict(pages: Pages, near: number): Pages {
    const view = this.#viewPages();
    const id = this.hooks.keep?.();
    const selected = id === null || id === undefined ? undefined : pageHolding(pages, id);
    const keep = selected === undefined ? view : [...view, selected];
    const centre = view.length ? (view[0]! + view.at(-1)!) / 2 : near;
    return evicted(pages, MAX_PAGES, centre, keep);
  }
}

/** The core's default filter (everything, in recording order), whatever fields the contract grows. */
export function defaultFilter(): UtteranceFilter {
  return UtteranceFilterSchema.parse({});
}
