import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UtteranceFilter, UtteranceRow } from '../../../../shared/contract';
import { deferred, FakeClient, row } from '../testing/fake-client';
import { ListState } from './list-state.svelte';

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
