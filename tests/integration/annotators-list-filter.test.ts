import { afterEach, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import type { OperationName, UtteranceRow } from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

type Page = { rows: UtteranceRow[]; filtered: number; total: number };

/**
 * A real project file of 7 demo clips, three annotators and an adjudicator, K = 2 (labels 1-4):
 * u0 all agree; u1 a and b agree, c has not labelled; u2 three-way tie (disagreed); u3 a and b
 * disagree, c has not labelled; u4 three-way tie, adjudicated; u5 one label; u6 none.
 */
async function threeAnnotators() {
  const { studio } = openTempStudio();
  open.push(studio);
  const dir = tempDir();
  copyInto(dir, demoClips('spk_a', 7));
  await runImport(studio, dir);
  const handlers = createHandlers(studio);
  const call = <T>(name: OperationName, input: unknown = {}) => invokeOperation(handlers, name, input) as Promise<T>;
  const page = (filter: Record<string, unknown> = {}) => call<Page>('listUtterances', filter);
  const ids = (await page()).rows.map((r) => r.id);
  expect(ids).toHaveLength(7);
  const as = (annotator: string) => call('setAnnotator', { annotator });
  for (const n of ['a', 'b', 'c']) await call('saveAnnotator', { name: n });
  await call('saveAnnotator', { name: 'judge', role: 'adjudicator' });
  await call('setLabellingSettings', { labelsPerUtterance: 2, blind: true });
  const votes: Record<string, (number | null)[]> = {
    a: [1, 1, 1, 1, 1, 1, null],
    b: [1, 1, 2, 2, 2, null, null],
    c: [1, null, 3, null, 3, null, null],
  };
  for (const [who, labels] of Object.entries(votes)) {
    await as(who);
    for (const [i, l] of labels.entries()) if (l !== null) await call('setLabel', { utteranceId: ids[i], labelId: l });
  }
  await as('judge');
  await call('adjudicate', { utteranceId: ids[4], labelId: 3, reason: 'shouted' });
  /** Positions (0-6) of the rows a filter gives, and its filtered total, checked on a one-row page too. */
  const which = async (consensus: string) => {
    const all = await page({ consensus });
    const first = await page({ consensus, offset: 0, limit: 1 });
    expect(first.filtered).toBe(all.filtered);
    expect(first.rows.map((r) => r.id)).toEqual(all.rows.slice(0, 1).map((r) => r.id));
    expect(all.total).toBe(7);
    expect(all.filtered).toBe(all.rows.length);
    return all.rows.map((r) => ids.indexOf(r.id));
  };
  return { call, page, ids, as, which };
}

describe('the list filter by everyone’s labels (issue 11, list UI)', () => {
  it('blind mode: c sees states only where c has labelled, and no filter reveals a hidden state', async () => {
    const { page, as, which, ids } = await threeAnnotators();
    await as('c');
    const rows = (await page()).rows;
    expect(rows.map((r) => r.consensus.state)).toEqual([
      'agreed',
      null, // agreed, but c has not labelled it
      'disagreed',
      null, // disagreed, hidden
      'adjudicated',
      null,
      null,
    ]);
    expect(rows[1]!.consensus).toEqual({
      state: null,
      labels: 2,
      needed: 2,
      labelId: null,
      hidden: true,
      needsMe: false,
    });
    expect(rows[4]!.consensus).toMatchObject({ state: 'adjudicated', labelId: 3, labels: 3, hidden: false });

    expect(await which('needs_my_label')).toEqual([5, 6]);
    expect(await which('needs_more_labels')).toEqual([5, 6]);
    expect(await which('complete')).toEqual([0, 1, 2, 3, 4]);
    expect(await which('agreed')).toEqual([0]);
    expect(await which('disagreed')).toEqual([2]);
    expect(await which('adjudicated')).toEqual([4]);
    expect(await which('any')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // the hidden rows that the count-only filter "complete" lets through stay hidden
    const complete = (await page({ consensus: 'complete' })).rows;
    for (const r of complete.filter((r) => r.id === ids[1] || r.id === ids[3]))
      expect(r.consensus).toMatchObject({ state: null, labelId: null, hidden: true });

    // with the consensus filter combined with the SQL filters, the total follows both
    const labelledDisagreed = await page({ consensus: 'needs_my_label', status: 'labelled' });
    expect(labelledDisagreed).toMatchObject({ filtered: 0, rows: [] });
  });

  it('blind mode off: c sees every state; a’s queue is what a has not labelled and still needs labels', async () => {
    const { call, as, which } = await threeAnnotators();
    await call('setLabellingSettings', { blind: false });
    await as('c');
    expect(await which('agreed')).toEqual([0, 1]);
    expect(await which('disagreed')).toEqual([2, 3]);
    expect(await which('needs_my_label')).toEqual([5, 6]);
    await as('a');
    expect(await which('needs_my_label')).toEqual([6]);
    await as('b');
    expect(await which('needs_my_label')).toEqual([5, 6]);
  });

  it('an adjudicator sees everything; their "needs my label" is the disagreements awaiting them', async () => {
    const { call, as, which, ids } = await threeAnnotators();
    await as('judge');
    expect(await which('needs_my_label')).toEqual([2, 3]);
    expect(await which('agreed')).toEqual([0, 1]);
    expect(await which('disagreed')).toEqual([2, 3]);
    expect(await which('adjudicated')).toEqual([4]);
    await call('adjudicate', { utteranceId: ids[3], labelId: 1, reason: 'calm voice' });
    expect(await which('needs_my_label')).toEqual([2]);
    expect(await which('adjudicated')).toEqual([3, 4]);
  });

  it('the contract refuses an unknown consensus filter', async () => {
    const { page } = await threeAnnotators();
    await expect(page({ consensus: 'mine' })).rejects.toThrow();
  });
});
