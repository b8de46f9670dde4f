import { describe, expect, it } from 'vitest';
import {
  AA_CONTRAST,
  colourDistance,
  contrast,
  LABEL_PALETTE,
  nextLabelColour,
  readableOn,
} from '../../src/renderer/src/lib/util/colour';

/** The demo project's labels (migration 001): neutral, happy, angry, sad. */
const DEMO = ['#8a94a6', '#e0a100', '#d64545', '#3d7dd8'];

describe('label colours', () => {
  it('solid chips read at WCAG AA for every default and palette colour (the grey "neutral" chip was 3.06:1)', () => {
    expect(contrast('#8a94a6', '#ffffff')).toBeLessThan(AA_CONTRAST); // white text, as before
    for (const colour of [...DEMO, ...LABEL_PALETTE, '#ffffff', '#000000', '#ff0000', '#777777']) {
      const { background, text } = readableOn(colour);
      expect(contrast(background, text), colour).toBeGreaterThanOrEqual(AA_CONTRAST);
    }
  });

  it('gives labels 5 and 6 of the demo project colours that are told apart, also under red-green deficiencies (they were two greens, ΔE 22)', () => {
    const fifth = nextLabelColour(DEMO);
    const sixth = nextLabelColour([...DEMO, fifth]);
    expect(fifth).not.toBe(sixth);
    const all = [...DEMO, fifth, sixth];
    for (const c of [fifth, sixth]) {
      for (const other of all.filter((o) => o !== c)) {
        expect(colourDistance(c, other), `${c} vs ${other}`).toBeGreaterThan(30);
        expect(colourDistance(c, other, 'deuteranopia'), `${c} vs ${other}, deuteranopia`).toBeGreaterThan(15);
        expect(colourDistance(c, other, 'protanopia'), `${c} vs ${other}, protanopia`).toBeGreaterThan(15);
      }
    }
  });

  it('an empty project starts at the first palette colour, and a taken colour is not offered again', () => {
    expect(nextLabelColour([])).toBe(LABEL_PALETTE[0]);
    expect(nextLabelColour([LABEL_PALETTE[0]])).not.toBe(LABEL_PALETTE[0]);
  });
});
