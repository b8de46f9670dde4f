import { describe, expect, it } from 'vitest';
import { colourMap, viridis } from '../../src/renderer/src/lib/util/colour-map';

describe('the spectrogram colour map', () => {
  it('is viridis: dark purple to yellow, each channel of its luminance rising', () => {
    expect(viridis(0)).toBe(0x440154);
    expect(viridis(1)).toBe(0xfde725);
    expect(viridis(0.5)).toBe(0x21918c);
    const luminance = (c: number) => 0.2126 * (c >> 16) + 0.7152 * ((c >> 8) & 255) + 0.0722 * (c & 255);
    for (let t = 0; t < 1; t += 0.05) expect(luminance(viridis(t + 0.05))).toBeGreaterThan(luminance(viridis(t)));
  });

  it('spans the floor..ceiling range of the tile’s quantised dB: darkest below, lightest above', () => {
    // Tiles quantise -120..0 dB to 0..255; colours over -90..-10 dB.
    const lut = colourMap(-120, 0, -90, -10);
    expect(lut[0]).toBe(0x440154);
    expect(lut[Math.floor((30 / 120) * 255)]).toBe(0x440154);
    expect(lut[Math.ceil((110 / 120) * 255)]).toBe(0xfde725);
    expect(lut[255]).toBe(0xfde725);
    expect(lut[Math.round((70 / 120) * 255)]).not.toBe(0x440154);
  });
});
