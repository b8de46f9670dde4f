import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UtteranceFilter, UtteranceRow } from '../../../../shared/contract';
import { deferred, FakeClient, row } from '../testing/fake-client';
import { ListState, MAX_PAGES, PAGE_SIZE } from './list-state.svelte';
import { Messages } from './messages.svelte';
import { SelectionState } from './selection.svelte';

const ROWS = [row(1), row(2, { transcript: 'happy birthday' }), row(3)];

/** A client whose list answers the filter's search over ROWS. */
function listing() {
  return new FakeClient({
    listUtterances: (filter) => answer(ROWS.filter((r) => !filter.search || r.transcript.includes(filter.search))),
  });
}

/** The core's answer listing `rows` of the project's three. */
const answer = (rows: UtteranceRow[]) => ({ rows, total: ROWS.length, filtered: rows.length, offset: 0 });

const searches = (fake: FakeClient) =>
  fake.calls.filter((c) => c.name === 'listUtterances').map((c) => (c.input as UtteranceFilter).search);

describe('ListState', () => {
  afterEach(() => vi.useRealTimers());

  it('lists the rows and the project total, and tells its owner after the rows changed', async () => {
    const fake = listing();
    const seen: string[] = [];
    const list = new ListState(fake.client, {
      beforeRows: () => seen.push(`before:${list.loadedRows.length}`),
      onRows: (rows, selectFirst) => seen.push(`after:${rows.length}:${selectFirst}`),
    });
    expect(list.loading).toBe(true);
    await list.load();
    expect(list.loadError).toBeNull();
    expect(list.loadedRows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(list.total).toBe(3);
    expect(list.loading).toBe(false);
    expect(list.indexById.get(3)).toBe(2);
    expect(seen).toEqual(['before:0', 'after:3:false']);
  });

  it('shows only the latest request answer when answers come back out of order', async () => {
    const first = deferred<ReturnType<typeof answer>>();
    const fake = new FakeClient({ listUtterances: () => first.promise });
    const list = new ListState(fake.client);
    const older = list.load();
    await Promise.resolve();
    fake.handle({ listUtterances: () => answer([row(7)]) });
    await list.load();
    first.resolve(answer([row(1), row(2)]));
    await older;
    expect(list.loadedRows.map((r) => r.id)).toEqual([7]);
    expect(list.total).toBe(3);
  });

  it('searches once after a pause in typing, with the last text', async () => {
    vi.useFakeTimers();
    const fake = listing();
    const list = new ListState(fake.client);
    list.setSearch('h');
    list.setSearch('ha');
    list.setSearch('happy');
    expect(list.searchText).toBe('happy');
    expect(list.filter.search).toBe('');
    expect(searches(fake)).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(searches(fake)).toEqual(['happy']);
    expect(list.loadedRows.map((r) => r.id)).toEqual([2]);
    expect(list.filtered).toBe(true);
  });

  it('clears the search at once, reloading only when the filter had it', async () => {
    vi.useFakeTimers();
    const fake = listing();
    const list = new ListState(fake.client);
    list.setSearch('hap');
    list.clearSearch(); // typed, not applied yet: nothing to reload
    await vi.advanceTimersByTimeAsync(1000);
    expect(searches(fake)).toEqual([]);
    list.setSearch('happy');
    await vi.advanceTimersByTimeAsync(250);
    list.clearSearch();
    await vi.advanceTimersByTimeAsync(0);
    expect(searches(fake)).toEqual(['happy', '']);
    expect(list.loadedRows).toHaveLength(3);
    expect(list.filtered).toBe(false);
  });

  it('a new sort asks its owner to start from the top; another filter does not', async () => {
    const fake = listing();
    const firsts: boolean[] = [];
    const list = new ListState(fake.client, { onRows: (_, selectFirst) => firsts.push(selectFirst) });
    list.setFilter({ status: 'unlabelled' });
    await vi.waitFor(() => expect(firsts).toHaveLength(1));
    list.setFilter({ sort: 'uncertainty' });
    await vi.waitFor(() => expect(firsts).toHaveLength(2));
    list.setFilter({ sort: 'uncertainty', unsure: true });
    await vi.waitFor(() => expect(firsts).toHaveLength(3));
    expect(firsts).toEqual([false, true, false]);
    expect(list.filtered).toBe(true);
    list.clearFilters();
    await vi.waitFor(() => expect(firsts).toHaveLength(4));
    expect(list.filter.sort).toBe('recording');
    expect(list.filtered).toBe(false);
  });

  it('replaces a listed row in place and ignores one that is not listed', async () => {
    const list = new ListState(listing().client);
    await list.load();
    list.replaceRow(row(2, { labelId: 5 }));
    list.replaceRow(row(9, { labelId: 5 }));
    expect(list.rowById(2)?.labelId).toBe(5);
    expect(list.rowById(9)).toBeNull();
    expect(list.loadedRows).toHaveLength(3);
  });

  it('says why the list could not load, and clears it once a load works', async () => {
    const fake = new FakeClient({});
    const list = new ListState(fake.client);
    await list.load();
    expect(list.loadError).toContain('listUtterances');
    expect(list.loading).toBe(false);
    await list.loadWith(() => Promise.reject(new Error('the project file is damaged')));
    expect(list.loadError).toBe('the project file is damaged');
    fake.handle({ listUtterances: () => answer([]) });
    await list.loadWith(() => list.load());
    expect(list.loadError).toBeNull();
  });

  it('starts over on another project with no rows, filter or search', async () => {
    const list = new ListState(listing().client);
    await list.load();
    list.setSearch('happy');
    list.startOver();
    expect(list.loadedRows).toEqual([]);
    expect(list.searchText).toBe('');
    expect(list.filter.search).toBe('');
  });
});

/** A client whose list pages over `count` rows (ids 1..count), searching transcripts like the core. */
function paging(count: number) {
  const all = Array.from({ length: count }, (_, i) => row(i + 1, { transcript: i % 2 ? 'odd' : 'even' }));
  return new FakeClient({
    listUtterances: ({ search, offset = 0, limit = null }) => {
      const matched = all.filter((r) => !search || r.transcript === search);
      const rows = matched.slice(offset, limit === null ? undefined : offset + limit);
      return { rows, total: count, filtered: matched.length, offset };
    },
  });
}

const pages = (fake: FakeClient) =>
  fake.calls
    .filter((c) => c.name === 'listUtterances')
    .map((c) => {
      const { offset, limit, search } = c.input as UtteranceFilter & { offset: number; limit: number };
      return `${search}@${offset}+${limit}`;
    });

describe('ListState pages', () => {
  it('loads only the first page, and counts every row the filter matches; the rest are placeholders', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    await list.load();
    expect(list.loadedRows).toHaveLength(PAGE_SIZE);
    expect(list.rowAt(0)!.id).toBe(1);
    expect(list.rowAt(PAGE_SIZE - 1)!.id).toBe(PAGE_SIZE);
    expect(list.rowAt(PAGE_SIZE)).toBeUndefined(); // not loaded yet: drawn as a placeholder
    expect(list.rowAt(1000)).toBeUndefined(); // past the end
    expect(list.matching).toBe(1000);
    expect(list.total).toBe(1000);
    expect(pages(fake)).toEqual([`@0+${PAGE_SIZE}`]);
  });

  it('loads the pages the view and its margin need, in one request, once while on its way', async () => {
    const fake = paging(100_000);
    const list = new ListState(fake.client);
    await list.load();
    list.setView(5000, 5015); // rows 4950..5065 with the margin: pages 24 and 25
    list.setView(5001, 5016);
    await vi.waitFor(() => expect(list.rowAt(5016)?.id).toBe(5017));
    expect(pages(fake)).toEqual([`@0+${PAGE_SIZE}`, `@${24 * PAGE_SIZE}+${2 * PAGE_SIZE}`]);
    expect(list.rowAt(4800)!.id).toBe(4801);
    expect(list.indexById.get(5017)).toBe(5016);
    expect(list.rowAt(4000)).toBeUndefined();
    // Scrolling on within loaded pages asks for nothing; into the next one, for it alone.
    list.setView(5100, 5115);
    list.setView(5200, 5215);
    await vi.waitFor(() => expect(list.rowAt(5265)?.id).toBe(5266));
    expect(pages(fake).slice(2)).toEqual([`@${26 * PAGE_SIZE}+${PAGE_SIZE}`]);
  });

  it('keeps at most MAX_PAGES pages, dropping the farthest from the view but never the selection’s', async () => {
    const fake = paging(100_000);
    const list = new ListState(fake.client, { keep: () => 1 });
    await list.load(); // page 0 holds the kept utterance (id 1)
    for (let page = 10; page < 10 + 2 * MAX_PAGES; page++) {
      list.setView(page * PAGE_SIZE + 60, page * PAGE_SIZE + 75);
      await vi.waitFor(() => expect(list.rowAt(page * PAGE_SIZE + 75)).toBeDefined());
      expect(list.pageCount).toBeLessThanOrEqual(MAX_PAGES);
    }
    expect(list.rowById(1)?.id).toBe(1);
    const last = (10 + 2 * MAX_PAGES - 1) * PAGE_SIZE;
    expect(list.rowAt(last)).toBeDefined();
    expect(list.rowAt(10 * PAGE_SIZE + 60)).toBeUndefined(); // far behind: dropped
    expect(list.loadedRows.length).toBeLessThanOrEqual(MAX_PAGES * PAGE_SIZE);
  });

  it('a refresh asks again for the pages in view and the selection’s only, and drops the others', async () => {
    const fake = paging(1000);
    let selected: number | null = null;
    const list = new ListState(fake.client, { keep: () => selected });
    await list.load();
    await list.loadIndex(999); // the last page (End)
    selected = 1000;
    list.setView(400, 415); // rows 350..465: pages 1 and 2
    await vi.waitFor(() => expect(list.rowAt(465)).toBeDefined());
    list.replaceRow(row(401, { labelId: 4 }));
    expect(list.rowAt(400)?.labelId).toBe(4);
    expect(list.indexById.get(401)).toBe(400);
    const before = pages(fake).length;
    await list.load({ keepLoaded: true });
    expect(pages(fake).slice(before)).toEqual([`@${PAGE_SIZE}+${2 * PAGE_SIZE}`, `@${4 * PAGE_SIZE}+${PAGE_SIZE}`]);
    expect(list.rowAt(0)).toBeUndefined(); // out of view, not the selection's: dropped
    expect(list.rowAt(400)?.labelId).toBeNull(); // as the core has it now
    expect(list.rowById(1000)?.id).toBe(1000);
    expect(list.pageCount).toBe(3);
  });

  it('a list that shrank: pages past its new end are dropped and the view asks for nothing past it', async () => {
    let count = 1000;
    const fake = new FakeClient({
      listUtterances: ({ offset = 0, limit = null }) => {
        const all = Array.from({ length: count }, (_, i) => row(i + 1));
        return {
          rows: all.slice(offset, limit === null ? undefined : offset + limit),
          total: count,
          filtered: count,
          offset,
        };
      },
    });
    const list = new ListState(fake.client);
    await list.load();
    list.setView(900, 915);
    await vi.waitFor(() => expect(list.rowAt(915)).toBeDefined());
    count = 450;
    await list.load({ keepLoaded: true });
    expect(list.matching).toBe(450);
    expect(list.rowAt(900)).toBeUndefined();
    expect(list.loadedRows.every((r) => r.id <= 450)).toBe(true);
  });

  it('drops a page answered after a filter change, and the old filter’s pages with it', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    await list.load();
    await list.loadIndex(900);
    const late = deferred<{ rows: UtteranceRow[]; total: number; filtered: number; offset: number }>();
    fake.handle({ listUtterances: () => late.promise });
    const more = list.loadIndex(500);
    await Promise.resolve();
    fake.handle({
      listUtterances: ({ offset = 0 }) => ({
        rows: [row(2, { transcript: 'odd' })],
        total: 1000,
        filtered: 1,
        offset,
      }),
    });
    list.setFilter({ status: 'unlabelled' });
    await vi.waitFor(() => expect(list.loadedRows.map((r) => r.id)).toEqual([2]));
    late.resolve({ rows: [row(501), row(502)], total: 1000, filtered: 1000, offset: 400 });
    expect(await more).toBe(false);
    expect(list.loadedRows.map((r) => r.id)).toEqual([2]);
    expect(list.matching).toBe(1);
    expect(list.rowAt(900)).toBeUndefined();
    const inputs = fake.calls.filter((c) => c.name === 'listUtterances').map((c) => c.input as { offset: number });
    expect(inputs.at(-1)!.offset).toBe(0);
  });

  it('End loads the last page only and selects its last row; J and K across page boundaries load one page', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    const selection = new SelectionState(fake.client, list, new Messages());
    try {
      await list.load();
      selection.select(1);
      selection.selectEdge('last');
      await vi.waitFor(() => expect(selection.id).toBe(1000));
      expect(pages(fake)).toEqual([`@0+${PAGE_SIZE}`, `@${4 * PAGE_SIZE}+${PAGE_SIZE}`]);
      expect(selection.index).toBe(999);
      selection.selectOffset(-1); // K
      expect(selection.id).toBe(999);

      selection.select(801); // the first row of the last page
      selection.selectOffset(-1); // K into page 3, not loaded
      await vi.waitFor(() => expect(selection.id).toBe(800));
      expect(selection.index).toBe(799);
      expect(pages(fake).at(-1)).toBe(`@${3 * PAGE_SIZE}+${PAGE_SIZE}`);

      selection.selectEdge('first');
      expect(selection.id).toBe(1);
      selection.select(PAGE_SIZE); // the last row of page 0
      selection.selectOffset(1); // J into page 1, not loaded
      await vi.waitFor(() => expect(selection.id).toBe(PAGE_SIZE + 1));
      expect(selection.row?.id).toBe(PAGE_SIZE + 1);
      // Page 1 alone was asked for (J's prefetch 50 rows ahead falls in it too).
      expect(pages(fake).slice(3)).toEqual([`@${PAGE_SIZE}+${PAGE_SIZE}`]);
    } finally {
      selection.dispose();
    }
  });
});
