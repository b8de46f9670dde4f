/** A lookup from `key(item)` to `value(item)` (the item itself by default); later items win. */
export function mapBy<T, K, V = T>(items: readonly T[], key: (item: T) => K, value?: (item: T, index: number) => V) {
  const map = new Map<K, V>();
  items.forEach((item, index) => map.set(key(item), value ? value(item, index) : (item as unknown as V)));
  return map;
}

/** Promises keyed by name, resolved together when their key settles. */
export class Waiters<K, V> {
  private readonly waiting = new Map<K, Set<(value: V) => void>>();

  wait(key: K): Promise<V> {
    return new Promise((resolve) => {
      const set = this.waiting.get(key) ?? new Set();
      set.add(resolve);
      this.waiting.set(key, set);
    });
  }

  resolve(key: K, value: V): void {
    for (const resolve of this.waiting.get(key) ?? []) resolve(value);
    this.waiting.delete(key);
  }
}
