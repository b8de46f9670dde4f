import type { UtteranceRow } from '../../../../shared/contract';

/**
 * The list's loaded pages, as immutable maps from page number (offset / page size) to rows: what
 * `ListState` keeps in its `$state.raw` (a new map per change), and the page requests on their way.
 */

export interface Page {
  rows: UtteranceRow[];
  /** The load (filter, refresh) it was listed for; an older one's page is dropped by the next load. */
  load: number;
}

export type Pages = ReadonlyMap<number, Page>;

export const NO_PAGES: Pages = new Map();

/** List index by utterance id over the loaded rows. */
export function indexById(pages: Pages, size: number): Map<number, number> {
  const map = new Map<number, number>();
  for (const [page, { rows }] of pages) rows.forEach((r, i) => map.set(r.id, page * size + i));
  return map;
}

/** The loaded rows in list order. */
export function loadedRows(pages: Pages): UtteranceRow[] {
  return [...pages.keys()].sort((a, b) => a - b).flatMap((p) => pages.get(p)!.rows);
}

/** `pages` with the row at list index `index` replaced by `row` (that page must be loaded). */
export function withRow(pages: Pages, index: number, row: UtteranceRow, size: number): Pages {
  const number = Math.floor(index / size);
  const page = pages.get(number)!;
  return new Map(pages).set(number, { ...page, rows: page.rows.with(index - number * size, row) });
}

/** The pages listed for load `load` only. */
export function ofLoad(pages: Pages, load: number): Pages {
  return new Map([...pages].filter(([, p]) => p.load === load));
}

/**
 * `pages` with the rows answered for `count` pages from page `first` (fewer rows than asked: the list
 * ends there) and without pages past the list's end; `matching` is the list's length as answered.
 */
export function withRun(
  pages: Pages,
  run: { first: number; count: number; rows: UtteranceRow[]; load: number },
  matching: number,
  size: number,
): { pages: Pages; matching: number } {
  const { first, count, rows, load } = run;
  const length = rows.length < count * size ? Math.min(matching, first * size + rows.length) : matching;
  const next = new Map(pages);
  for (let i = 0; i < count; i++) {
    const slice = rows.slice(i * size, (i + 1) * size);
    if (slice.length > 0) next.set(first + i, { rows: slice, load });
  }
  const end = Math.ceil(length / size);
  for (const page of [...next.keys()]) if (page >= end) next.delete(page);
  return { pages: next, matching: length };
}

/**
 * At most `max` of `pages`: the farthest from `centre` go first; never those in `keep` (the view's,
 * the selection's).
 */
export function evicted(pages: Pages, max: number, centre: number, keep: readonly number[]): Pages {
  if (pages.size <= max) return pages;
  const next = new Map(pages);
  const far = [...pages.keys()]
    .filter((p) => !keep.includes(p))
    .sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
  for (const page of far) {
    if (next.size <= max) break;
    next.delete(page);
  }
  return next;
}

/** The page holding utterance `id`, if loaded. */
export function pageHolding(pages: Pages, id: number): number | undefined {
  for (const [number, page] of pages) if (page.rows.some((r) => r.id === id)) return number;
  return undefined;
}

/** Page numbers covering list indexes `first`..`last` (none when `last` < `first`). */
export function pagesCovering(first: number, last: number, size: number): number[] {
  const pages: number[] = [];
  if (last < first) return pages;
  for (let p = Math.floor(first / size); p <= Math.floor(last / size); p++) pages.push(p);
  return pages;
}

/** Sorted page numbers as runs of consecutive pages: [first, count]. */
export function runsOf(pages: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const page of pages) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === page) last[1]++;
    else runs.push([page, 1]);
  }
  return runs;
}

/** Page requests on their way, by page number: whoever asks for a page meanwhile waits for the same answer. */
export class PagesInFlight {
  readonly #requests = new Map<number, Promise<boolean>>();

  get(page: number): Promise<boolean> | undefined {
    return this.#requests.get(page);
  }
  has(page: number): boolean {
    return this.#requests.has(page);
  }
  /** `pages` are on their way with `done`, until it settles. */
  track(pages: Iterable<number>, done: Promise<boolean>): void {
    const numbers = [...pages];
    for (const p of numbers) this.#requests.set(p, done);
    void done.finally(() => {
      for (const p of numbers) if (this.#requests.get(p) === done) this.#requests.delete(p);
    });
  }
  clear(): void {
    this.#requests.clear();
  }
}
