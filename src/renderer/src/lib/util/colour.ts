/**
 * Colour arithmetic for label colours: WCAG contrast, a readable text colour (darkening the
 * background where neither black nor white reads at 4.5:1), and a default colour for a new label
 * that is far from the labels already there, also under red–green colour-vision deficiencies.
 */

type Rgb = [number, number, number];

const DARK_TEXT = '#111418';
const LIGHT_TEXT = '#ffffff';
/** WCAG 2.1 AA for normal text. */
export const AA_CONTRAST = 4.5;

/**
 * Colours offered to new labels (Okabe–Ito based: told apart under common colour-vision
 * deficiencies), ordered to stand apart from the demo set (grey, amber, red, blue).
 */
export const LABEL_PALETTE = [
  '#009e73', // bluish green
  '#7a5195', // purple
  '#d55e00', // vermillion
  '#0f5257', // dark teal
  '#cc79a7', // reddish purple
  '#3a3f4b', // charcoal
  '#a6761d', // ochre
  '#e7298a', // magenta
] as const;

function rgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function hexOf([r, g, b]: Rgb): string {
  return `#${[r, g, b]
    .map((c) =>
      Math.round(Math.min(255, Math.max(0, c)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

const toLinear = (c: number) => {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
};

/** WCAG relative luminance of a `#rrggbb` colour. */
export function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map(toLinear) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two `#rrggbb` colours (1–21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Text and background for a solid chip or button in a label's colour: black or white text,
 * whichever reads better; where neither reaches 4.5:1, the background is darkened until white does.
 */
export function readableOn(hex: string): { background: string; text: string } {
  const light = contrast(hex, LIGHT_TEXT);
  const dark = contrast(hex, DARK_TEXT);
  if (Math.max(light, dark) >= AA_CONTRAST) return { background: hex, text: light >= dark ? LIGHT_TEXT : DARK_TEXT };
  const [r, g, b] = rgb(hex);
  for (let k = 0.96; k > 0; k -= 0.04) {
    const darker = hexOf([r * k, g * k, b * k]);
    if (contrast(darker, LIGHT_TEXT) >= AA_CONTRAST) return { background: darker, text: LIGHT_TEXT };
  }
  return { background: '#000000', text: LIGHT_TEXT };
}

/** CIE L*a*b* (D65) of a `#rrggbb` colour, after an optional simulation matrix in linear RGB. */
function lab(hex: string, simulate?: readonly number[]): Rgb {
  let [r, g, b] = rgb(hex).map(toLinear) as Rgb;
  if (simulate) {
    const m = simulate;
    [r, g, b] = [
      m[0]! * r + m[1]! * g + m[2]! * b,
      m[3]! * r + m[4]! * g + m[5]! * b,
      m[6]! * r + m[7]! * g + m[8]! * b,
    ];
  }
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t) / 116 + 16 / 116);
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** Machado et al. (2009) simulation matrices, severity 1.0, in linear RGB. */
export const CVD_SIMULATIONS = {
  deuteranopia: [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881],
  protanopia: [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998],
} as const;

/** Colour difference (CIE76 ΔE) as seen with normal vision, or with a simulated deficiency. */
export function colourDistance(a: string, b: string, vision?: keyof typeof CVD_SIMULATIONS): number {
  const m = vision ? CVD_SIMULATIONS[vision] : undefined;
  const [l1, a1, b1] = lab(a, m);
  const [l2, a2, b2] = lab(b, m);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

/** The smallest difference of a colour from others, over normal vision and the simulated deficiencies. */
function separation(colour: string, others: readonly string[]): number {
  let min = Infinity;
  for (const o of others) {
    min = Math.min(
      min,
      colourDistance(colour, o),
      colourDistance(colour, o, 'deuteranopia'),
      colourDistance(colour, o, 'protanopia'),
    );
  }
  return min;
}

/** The default colour of a new label: the palette colour that stands furthest from the labels there. */
export function nextLabelColour(existing: readonly string[]): string {
  const taken = existing.map((c) => c.toLowerCase());
  let best: string = LABEL_PALETTE[0];
  let bestScore = -Infinity;
  for (const c of LABEL_PALETTE) {
    if (taken.includes(c)) continue;
    const score = taken.length ? separation(c, taken) : 0;
    if (score > bestScore + 1e-9) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
