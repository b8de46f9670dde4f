import type { BoundarySnap } from '../../shared/contract';

/** The energy around a candidate point is summed over this long (s), centred on it. */
export const SNAP_ENERGY_FRAME_S = 0.01;

/**
 * Where a moved segment edge snaps to, in samples of `samples` (which start at sample `offset` of the
 * recording): the candidate sample boundary in [lo, hi] (recording sample indices, inclusive) that is
 *  - `zero-crossing`: a sign change (samples i-1 and i on either side of zero) nearest to `target`;
 *  - `low-energy`: the centre of the quietest `SNAP_ENERGY_FRAME_S` frame (sum of squares), the
 *    nearest to `target` among equally quiet ones.
 * Null when nothing qualifies (no sign change in the window, an empty window): the edge stays put.
 * `samples` must cover [lo - 1, hi] for zero crossings and half an energy frame beyond each side.
 */
export function snapIndex(
  samples: Float32Array,
  offset: number,
  sampleRate: number,
  mode: Exclude<BoundarySnap, 'off'>,
  target: number,
  lo: number,
  hi: number,
): number | null {
  if (hi < lo) return null;
  const at = (i: number) => samples[i - offset] ?? 0;
  let best: number | null = null;
  const closer = (i: number) => best === null || Math.abs(i - target) < Math.abs(best - target);
  if (mode === 'zero-crossing') {
    for (let i = lo; i <= hi; i++) if (at(i - 1) >= 0 !== at(i) >= 0 && closer(i)) best = i;
    return best;
  }
  const half = Math.max(1, Math.round((SNAP_ENERGY_FRAME_S * sampleRate) / 2));
  // Prefix sums of squares from lo - half to hi + half: the frame energy of each candidate in O(1).
  const from = lo - half;
  const prefix = new Float64Array(hi + half - from + 1);
  for (let i = from; i < hi + half; i++) prefix[i - from + 1] = prefix[i - from]! + at(i) * at(i);
  let bestEnergy = Infinity;
  for (let i = lo; i <= hi; i++) {
    const energy = prefix[i + half - from]! - prefix[i - half - from]!;
    // "Equally quiet": within a part in a million of the quietest (sums of squares are not exact).
    const tolerance = 1e-6 * Math.max(bestEnergy, 1e-12);
    if (energy < bestEnergy - tolerance) {
      bestEnergy = energy;
      best = i;
    } else if (energy <= bestEnergy + tolerance && closer(i)) {
      bestEnergy = Math.min(bestEnergy, energy);
      best = i;
    }
  }
  return best;
}
