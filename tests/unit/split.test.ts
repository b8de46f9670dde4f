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
});
