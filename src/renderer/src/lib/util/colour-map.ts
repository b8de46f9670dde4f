/**
 * The spectrogram's colours: viridis (perceptually uniform, readable in grey and by most colour-blind
 * people), from nine of its stops interpolated linearly.
 */
const VIRIDIS = [0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725] as const;

/** Viridis at t in 0..1, as 0xRRGGBB. */
export function viridis(t: number): number {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  let out = 0;
  for (const shift of [16, 8, 0]) {
    const ca = (a >> shift) & 255;
    const cb = (b >> shift) & 255;
    out |= Math.round(ca + (cb - ca) * f) << shift;
  }
  return out;
}

const cache = new Map<string, Uint32Array>();

/**
 * The colour of each quantised value 0..255 of a tile (quantised over [tileFloor, tileCeiling] dB)
 * when the colours span [floorDb, ceilingDb]: below the floor the darkest, above the ceiling the lightest.
 */
export function colourMap(tileFloor: number, tileCeiling: number, floorDb: number, ceilingDb: number): Uint32Array {
  const key = `${tileFloor}|${tileCeiling}|${floorDb}|${ceilingDb}`;
  let lut = cache.get(key);
  if (!lut) {
    lut = new Uint32Array(256);
    for (let v = 0; v < 256; v++) {
      const db = tileFloor + (v / 255) * (tileCeiling - tileFloor);
      lut[v] = viridis((db - floorDb) / (ceilingDb - floorDb));
    }
    if (cache.size > 32) cache.clear();
    cache.set(key, lut);
  }
  return lut;
}
