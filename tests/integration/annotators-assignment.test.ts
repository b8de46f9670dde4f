/**
 * Assignment with a per-annotator share (issue 11): K labels per utterance, each annotator's share of
 * the utterances (0 < share <= 1, 1 = all), and "needs my label" holding only what is assigned to you.
 * Real project files, real WAVs, through the contract's operations.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import type { LabellingSettings, OperationName, RosterEntry, UtteranceRow } from '../../src/shared/contract';
import { openTempStudio, runImport, tempDir, writeTestWav } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

type Page = { rows: UtteranceRow[]; filtered: number; total: number };

/** `n` distinct short WAVs (different lengths, so different checksums) in a new folder. */
function wavs(n: number, from = 0): string {
  const dir = tempDir();
  for (let i = from; i < from + n; i++)
    writeTestWav(path.join(dir, `clip_${String(i).padStart(3, '0')}.wav`), 0.2 + i * 0.003);
  return dir;
}

async function project(n: number) {
  const { studio, file } = openTempStudio();
  open.push(studio);
  await runImport(studio, wavs(n));
  const handlers = createHandlers(studio);
  const call = <T>(name: OperationName, input: unknown = {}) => invokeOperation(handlers, name, input) as Promise<T>;
  const as = (annotator: string) => call('setAnnotator', { annotator });
  /** Each annotator's queue ("needs my label") as a set of utterance ids. */
  const queues = async (names: string[]) => {
    const out = new Map<string, Set<number>>();
    for (const name of names) {
      await as(name);
      const page = await call<Page>('listUtterances', { consensus: 'needs_my_label' });
      out.set(name, new Set(page.rows.map((r) => r.id)));
      // The row says the same as the filter.
      const all = await call<Page>('listUtterances', {});
      expect(new Set(all.rows.filter((r) => r.consensus.needsMe).map((r) => r.id))).toEqual(out.get(name));
    }
    return out;
  };
  const ids = async () => (await call<Page>('listUtterances', {})).rows.map((r) => r.id);
  return { studio, file, call, as, queues, ids };
}

/** How many of the queues hold each utterance. */
function coverage(queues: Map<string, Set<number>>, ids: number[]): number[] {
  return ids.map((id) => [...queues.values()].filter((q) => q.has(id)).length);
}

describe('assignment with a per-annotator share', () => {
  it('shares 1, 0.5, 0.5 and K = 2: every utterance is in exactly two queues, a gets all, b and c split the rest', async () => {
    const { call, queues, ids, studio } = await project(80);
    for (const n of ['a', 'b', 'c']) await call('saveAnnotator', { name: n });
    await call('setLabellingSettings', { labelsPerUtterance: 2 });
    // Before any share is set, everyone (share 1) sees everything that still needs labels, as before.
    const all = await ids();
    expect(coverage(await queues(['a', 'b', 'c']), all)).toEqual(all.map(() => 3));
    await call('setAnnotatorShare', { name: 'b', share: 0.5 });
    const roster = await call<RosterEntry[]>('setAnnotatorShare', { name: 'c', share: 0.5 });
    expect(roster.map((r) => [r.name, r.share])).toEqual([
      ['a', 1],
      ['b', 0.5],
      ['c', 0.5],
    ]);
    const q = await queues(['a', 'b', 'c']);
    expect(coverage(q, all)).toEqual(all.map(() => 2));
    expect(q.get('a')!.size).toBe(80);
    // b and c never share an utterance, and split them about evenly.
    expect([...q.get('b')!].filter((id) => q.get('c')!.has(id))).toEqual([]);
    expect(q.get('b')!.size + q.get('c')!.size).toBe(80);
    expect(q.get('b')!.size).toBeGreaterThanOrEqual(28);
    expect(q.get('b')!.size).toBeLessThanOrEqual(52);

    // Labelling leaves the queue; once K labels are in, the utterance leaves every queue.
    const first = [...q.get('b')!][0]!;
    await call('setAnnotator', { annotator: 'b' });
    await call('setLabel', { utteranceId: first, labelId: 1 });
    let after = await queues(['a', 'b', 'c']);
    expect(after.get('b')!.has(first)).toBe(false);
    expect(after.get('a')!.has(first)).toBe(true);
    await call('setAnnotator', { annotator: 'a' });
    await call('setLabel', { utteranceId: first, labelId: 2 });
    after = await queues(['a', 'b', 'c']);
    expect([...after.values()].some((s) => s.has(first))).toBe(false);

    // Stable when utterances are added: the earlier ones keep their annotators, the new ones get K.
    await runImport(studio, wavs(30, 200));
    const grown = await ids();
    expect(grown).toHaveLength(110);
    const q2 = await queues(['a', 'b', 'c']);
    for (const name of ['b', 'c'])
      expect([...q2.get(name)!].filter((id) => all.includes(id)).sort()).toEqual(
        [...after.get(name)!].filter((id) => all.includes(id)).sort(),
      );
    const added = grown.filter((id) => !all.includes(id));
    expect(coverage(q2, added)).toEqual(added.map(() => 2));
  });

  it('refuses a share outside (0, 1] and shares that cannot give K labels, changing nothing', async () => {
    const { call } = await project(3);
    for (const n of ['a', 'b', 'c']) await call('saveAnnotator', { name: n });
    await call('setLabellingSettings', { labelsPerUtterance: 2 });
    await expect(call('setAnnotatorShare', { name: 'b', share: Number.NaN })).rejects.toThrow();
    for (const share of [0, -0.2, 1.5])
      await expect(call('setAnnotatorShare', { name: 'b', share })).rejects.toThrow(
        /share must be more than 0 and at most 1/,
      );
    await call('setAnnotatorShare', { name: 'b', share: 0.5 });
    // a 1 + b 0.5 + c 0.4 = 1.9 < 2
    await expect(call('setAnnotatorShare', { name: 'c', share: 0.4 })).rejects.toThrow(
      /shares add up to 1.9, fewer than the 2 labels needed per utterance/,
    );
    await expect(call('setAnnotatorShare', { name: 'nobody', share: 0.5 })).rejects.toThrow(/nobody/);
    const roster = await call<RosterEntry[]>('listAnnotators');
    expect(roster.map((r) => [r.name, r.share])).toEqual([
      ['a', 1],
      ['b', 0.5],
      ['c', 1],
    ]);
    // Raising K above what the shares cover is refused the same way.
    await call('setAnnotatorShare', { name: 'c', share: 0.5 });
    await expect(call('setLabellingSettings', { labelsPerUtterance: 3 })).rejects.toThrow(
      /shares add up to 2, fewer than the 3 labels needed per utterance/,
    );
    expect((await call<LabellingSettings>('getLabellingSettings')).labelsPerUtterance).toBe(2);
    // An adjudicator has no share in the labelling.
    await expect(call('saveAnnotator', { name: 'judge', role: 'adjudicator' })).resolves.toBeDefined();
    await expect(call('setAnnotatorShare', { name: 'judge', share: 0.5 })).rejects.toThrow(/adjudicator/);
  });

  it('a calibration share puts a stable part of the utterances in every queue until each has labelled it', async () => {
    const { call, queues, ids } = await project(60);
    for (const n of ['a', 'b', 'c']) await call('saveAnnotator', { name: n });
    for (const n of ['a', 'b', 'c']) await call('setAnnotatorShare', { name: n, share: 1 / 3 });
    // K = 1 and shares of a third each: no overlap at all...
    const all = await ids();
    expect(coverage(await queues(['a', 'b', 'c']), all)).toEqual(all.map(() => 1));
    // ...unless a calibration share is set: about 20% go to everyone.
    await expect(call('setLabellingSettings', { calibrationShare: 1.2 })).rejects.toThrow();
    const s = await call<LabellingSettings>('setLabellingSettings', { calibrationShare: 0.2 });
    expect(s.calibrationShare).toBe(0.2);
    const q = await queues(['a', 'b', 'c']);
    const cover = coverage(q, all);
    const calibration = all.filter((_, i) => cover[i] === 3);
    expect(cover.every((n) => n === 1 || n === 3)).toBe(true);
    expect(calibration.length).toBeGreaterThanOrEqual(4);
    expect(calibration.length).toBeLessThanOrEqual(24);
    // A calibration utterance stays in the queues of those who have not labelled it, past K labels.
    await call('setAnnotator', { annotator: 'a' });
    await call('setLabel', { utteranceId: calibration[0], labelId: 1 });
    const after = await queues(['a', 'b', 'c']);
    expect(after.get('a')!.has(calibration[0]!)).toBe(false);
    expect(after.get('b')!.has(calibration[0]!)).toBe(true);
    expect(after.get('c')!.has(calibration[0]!)).toBe(true);
  });
});
