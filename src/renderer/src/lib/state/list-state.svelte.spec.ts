import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UtteranceFilter, UtteranceRow } from '../../../../shared/contract';
import { deferred, FakeClient, row } from '../testing/fake-client';
import { ListState, PAGE_SIZE } from './list-state.svelte';
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
      beforeRows: () => seen.push(`before:${list.rows.length}`),
      onRows: (rows, selectFirst) => seen.push(`after:${rows.length}:${selectFirst}`),
    });
    expect(list.loading).toBe(true);
    await list.load();
    expect(list.loadError).toBeNull();
    expect(list.rows.map((r) => r.id)).toEqual([1, 2, 3]);
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
    expect(list.rows.map((r) => r.id)).toEqual([7]);
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
    expect(list.rows.map((r) => r.id)).toEqual([2]);
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
    expect(list.rows).toHaveLength(3);
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
    expect(list.rows).toHaveLength(3);
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
    expect(list.rows).toEqual([]);
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
  it('loads only the first page, and counts every row the filter matches', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    await list.load();
    expect(list.rows).toHaveLength(PAGE_SIZE);
    expect(list.rows[0]!.id).toBe(1);
    expect(list.matching).toBe(1000);
    expect(list.total).toBe(1000);
    expect(list.hasMore).toBe(true);
    expect(pages(fake)).toEqual([`@0+${PAGE_SIZE}`]);
  });

  it('loads the next page on demand, once while it is on its way, in order', async () => {
    const fake = paging(450);
    const list = new ListState(fake.client);
    await list.load();
    await Promise.all([list.loadMore(), list.loadMore()]);
    expect(pages(fake)).toEqual([`@0+${PAGE_SIZE}`, `@${PAGE_SIZE}+${PAGE_SIZE}`]);
    expect(list.rows.map((r) => r.id)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    await list.loadMore();
    expect(list.rows).toHaveLength(450);
    expect(list.hasMore).toBe(false);
    expect(await list.loadMore()).toBe(true); // nothing left to ask for
    expect(pages(fake)).toHaveLength(3);
    expect(list.indexById.get(450)).toBe(449);
  });

  it('a refresh keeps as many rows as were loaded, in one request, and rows are replaced in place', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    await list.load();
    await list.loadMore();
    list.replaceRow(row(300, { labelId: 4 }));
    expect(list.rowById(300)?.labelId).toBe(4);
    expect(list.indexById.get(300)).toBe(299);
    await list.load({ keepLoaded: true });
    expect(pages(fake).at(-1)).toBe('@0+400');
    expect(list.rows).toHaveLength(400);
  });

  it('drops a page answered after a filter change, and starts the new filter from its first page', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    await list.load();
    const late = deferred<{ rows: UtteranceRow[]; total: number; filtered: number; offset: number }>();
    fake.handle({ listUtterances: () => late.promise });
    const more = list.loadMore();
    await Promise.resolve();
    fake.handle({
      listUtterances: ({ offset = 0 }) => ({
        rows: [row(2, { transcript: 'odd' })],
        total: 1000,
        filtered: 500,
        offset,
      }),
    });
    list.setFilter({ status: 'unlabelled' });
    await vi.waitFor(() => expect(list.rows.map((r) => r.id)).toEqual([2]));
    late.resolve({ rows: [row(201), row(202)], total: 1000, filtered: 1000, offset: 200 });
    expect(await more).toBe(false);
    expect(list.rows.map((r) => r.id)).toEqual([2]);
    expect(list.matching).toBe(500);
    const inputs = fake.calls.filter((c) => c.name === 'listUtterances').map((c) => c.input as { offset: number });
    expect(inputs.at(-1)!.offset).toBe(0);
  });

  it('End loads the pages up to the last row and selects it; J past the loaded rows loads the next page', async () => {
    const fake = paging(1000);
    const list = new ListState(fake.client);
    const selection = new SelectionState(fake.client, list, new Messages());
    try {
      await list.load();
      selection.select(1);
      selection.selectEdge('last');
      await vi.waitFor(() => expect(selection.id).toBe(1000));
      expect(pages(fake)).toEqual([`@0+${PAGE_SIZE}`, `@${PAGE_SIZE}+800`]);
      expect(selection.index).toBe(999);
      selection.selectOffset(-1); // K
      expect(selection.id).toBe(999);

      await list.load(); // back to the first page only
      selection.select(PAGE_SIZE);
      selection.selectOffset(1); // J from the last loaded row
      await vi.waitFor(() => expect(selection.id).toBe(PAGE_SIZE + 1));
      expect(list.rows).toHaveLength(2 * PAGE_SIZE);
      expect(pages(fake).at(-1)).toBe(`@${PAGE_SIZE}+${PAGE_SIZE}`);
    } finally {
      selection.dispose();
    }
  });
});
