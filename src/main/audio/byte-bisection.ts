/**
 * Bisection over a file's byte offsets, for seeking in streams whose units (FLAC frames, Ogg pages)
 * carry their position in samples: `ogg-seek.ts` and `flac-seek.ts` share it.
 */

/** Bytes read at a time while looking for the next unit (an Ogg page is at most 65,307 bytes). */
export const SCAN_BYTES = 1 << 17;
/** Below this span of bytes the bisection stops and the units are walked in order. */
export const LINEAR_BYTES = 1 << 16;

/**
 * Narrows [offset of `lo`, `hi`) to under `LINEAR_BYTES`: `probe(mid, hi)` finds the first unit at or
 * after `mid` (null: none before `hi`); a unit `atOrBefore` the goal becomes the new `lo`, otherwise
 * `hi` moves to `mid`. Returns the last unit known at or before the goal (`lo` itself when none was
 * found); the caller walks forward from it.
 */
export async function bisectBytes<T>(
  lo: T,
  hi: number,
  offsetOf: (unit: T) => number,
  probe: (mid: number, hi: number) => Promise<T | null>,
  atOrBefore: (unit: T) => boolean,
): Promise<T> {
  while (hi - offsetOf(lo) > LINEAR_BYTES) {
    const mid = Math.floor((offsetOf(lo) + hi) / 2);
    const unit = await probe(mid, hi);
    if (unit !== null && atOrBefore(unit)) lo = unit;
    else hi = mid;
  }
  return lo;
}
