import { describe, expect, it } from 'vitest';
import { splitByGroup, type SplitItem } from '../../src/main/export/split';

const LABELS = ['neutral', 'happy', 'angry', 'sad'];

/** 40 speakers with 10-30 utterances each and speaker-dependent label mixes. */
function corpus(): SplitItem[] {
  const items: SplitItem[] = [];
  let id = 1;
  for (let s = 0; s < 40; s++) {
    const n = 10 + ((s * 7) % 21);
    for (let i = 0; i < n; i++) items.push({ id: id++, group: `spk${s}`, label: LABELS[(i + s) % 4]! });
  }
  return items;
}
const ratios = { train: 0.8, validation: 0.1, test: 0.1 };

describe('speaker-independent stratified split', () => {
  const items = corpus();
  const { assignment } = splitByGroup(items, ratios, 7);

  it('assigns every item', () => {
    expect(assignment.size).toBe(items.length);
  });

  it('never puts one speaker in two splits', () => {
    const splitOf = new Map<string, Set<string>>();
    for (const i of items) {
      const set = splitOf.get(i.group) ?? new Set();
      set.add(assignment.get(i.id)!);
      splitOf.set(i.group, set);
    }
    for (const set of splitOf.values()) expect(set.size).toBe(1);
  });

  it('keeps split sizes and per-label proportions close to the ratios', () => {
    for (const [split, ratio] of Object.entries(ratios)) {
      const inSplit = items.filter((i) => assignment.get(i.id) === split);
      expect(Math.abs(inSplit.length / items.length - ratio)).toBeLessThan(0.05);
      for (const label of LABELS) {
        const share = inSplit.filter((i) => i.label === label).length / inSplit.length;
        expect(Math.abs(share - 0.25)).toBeLessThan(0.08);
      }
    }
  });

  it('is reproducible for a seed and changes with the seed', () => {
    const again = splitByGroup(items, ratios, 7).assignment;
    expect([...again]).toEqual([...assignment]);
    const other = splitByGroup(items, ratios, 8).assignment;
    expect([...other].some(([id, s]) => assignment.get(id) !== s)).toBe(true);
  });

  it('warns when there are fewer speakers than splits', () => {
    const few = [
      { id: 1, group: 'a', label: 'sad' },
      { id: 2, group: 'b', label: 'happy' },
    ];
    const result = splitByGroup(few, ratios, 1);
    expect(result.warnings[0]).toMatch(/only 2 speaker group/);
    expect(result.assignment.size).toBe(2);
  });

  it('warns when a split comes out empty although there are enough speakers', () => {
    // 13 utterances of 5 speakers with seed 13: the test split gets no speaker.
    const sizes = [3, 3, 3, 2, 2];
    const small: SplitItem[] = [];
    let id = 1;
    sizes.forEach((n, s) => {
      for (let i = 0; i < n; i++, id++) small.push({ id, group: `spk${s}`, label: LABELS[(id + 1) % 4]! });
    });
    const result = splitByGroup(small, ratios, 13);
    expect([...result.assignment.values()].filter((s) => s === 'test')).toHaveLength(0);
    expect(result.warnings).toContain('the test split is empty');
  });

  it('warns when a class is missing from a split', () => {
    const items: SplitItem[] = [
      { id: 1, group: 'a', label: 'sad' },
      { id: 2, group: 'a', label: 'happy' },
      { id: 3, group: 'b', label: 'sad' },
    ];
    const result = splitByGroup(items, { train: 0.5, validation: 0, test: 0.5 }, 1);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/^the (train|test) split has no "happy" utterances$/);
  });

  it('says nothing for a large, balanced corpus, and nothing about splits whose ratio is 0', () => {
    expect(splitByGroup(items, ratios, 7).warnings).toEqual([]);
    expect(splitByGroup(items, { train: 0.9, validation: 0, test: 0.1 }, 7).warnings).toEqual([]);
  });
});
