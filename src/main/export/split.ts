export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];
export type SplitRatios = Record<SplitName, number>;

export interface SplitItem {
  id: number;
  /** Items of one group (a speaker) always land in the same split. */
  group: string;
  label: string;
}

/** Small seeded PRNG (mulberry32): same seed, same split, on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Speaker-independent, label-stratified split. Groups are shuffled with the seed, then placed largest
 * first into the split that keeps the per-split label counts closest (squared error) to
 * ratio × overall count.
 */
export function splitByGroup(
  items: readonly SplitItem[],
  ratios: SplitRatios,
  seed: number,
): { assignment: Map<number, SplitName>; warnings: string[] } {
  const warnings: string[] = [];
  const sum = SPLITS.reduce((s, k) => s + ratios[k], 0);
  const share = Object.fromEntries(SPLITS.map((k) => [k, ratios[k] / sum])) as SplitRatios;
  const labels = [...new Set(items.map((i) => i.label))].sort();
  const totals = new Map(labels.map((l) => [l, 0]));
  const groups = new Map<string, SplitItem[]>();
  for (const item of items) {
    totals.set(item.label, totals.get(item.label)! + 1);
    const list = groups.get(item.group) ?? [];
    list.push(item);
    groups.set(item.group, list);
  }
  const random = seededRandom(seed);
  const order = [...groups.keys()].sort();
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // Stable sort keeps the shuffled order among equal sizes.
  order.sort((a, b) => groups.get(b)!.length - groups.get(a)!.length);

  const counts = Object.fromEntries(SPLITS.map((s) => [s, new Map(labels.map((l) => [l, 0]))])) as Record<
    SplitName,
    Map<string, number>
  >;
  const assignment = new Map<number, SplitName>();
  const active = SPLITS.filter((s) => share[s] > 0);
  for (const key of order) {
    const members = groups.get(key)!;
    const add = new Map<string, number>();
    for (const m of members) add.set(m.label, (add.get(m.label) ?? 0) + 1);
    let best: SplitName = active[0]!;
    let bestCost = Infinity;
    for (const candidate of active) {
      let cost = 0;
      for (const s of active) {
        for (const l of labels) {
          const now = counts[s].get(l)! + (s === candidate ? (add.get(l) ?? 0) : 0);
          const target = share[s] * totals.get(l)!;
          cost += (now - target) ** 2;
        }
      }
      if (cost < bestCost - 1e-9) {
        bestCost = cost;
        best = candidate;
      }
    }
    for (const [l, n] of add) counts[best].set(l, counts[best].get(l)! + n);
    for (const m of members) assignment.set(m.id, best);
  }
  if (groups.size < active.length) {
    warnings.push(
      `only ${groups.size} speaker group(s) for ${active.length} splits: some splits are empty (splits never share a speaker)`,
    );
  }
  if (items.length > 0) warnings.push(...coverageWarnings(counts, active, labels));
  return { assignment, warnings };
}

/**
 * What a split that was asked for (ratio > 0) lacks: every utterance, or every utterance of a class
 * that the corpus has. Training code fails or misleads on such splits, so they are never silent.
 */
function coverageWarnings(
  counts: Record<SplitName, Map<string, number>>,
  active: readonly SplitName[],
  labels: readonly string[],
): string[] {
  const warnings: string[] = [];
  for (const split of active) {
    const perLabel = counts[split];
    const size = labels.reduce((n, l) => n + perLabel.get(l)!, 0);
    if (size === 0) {
      warnings.push(`the ${split} split is empty`);
      continue;
    }
    const absent = labels.filter((l) => perLabel.get(l) === 0);
    if (absent.length) warnings.push(`the ${split} split has no ${absent.map((l) => `"${l}"`).join(', ')} utterances`);
  }
  return warnings;
}
