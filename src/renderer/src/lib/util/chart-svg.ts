/**
 * Saves a chart the report draws (HTML + CSS: the confusion heatmap, the reliability diagram) as a
 * standalone SVG: every box with a background becomes a rect, every top border a line (dashed where
 * the CSS says so), every text a text element, at the positions, colours and font sizes the page
 * shows now (so in the theme in use). Browser code only: it reads the DOM, writes nothing anywhere;
 * the file is handed to the browser as a download.
 */

export interface SvgShape {
  kind: 'rect' | 'line' | 'text';
  x: number;
  y: number;
  w?: number;
  h?: number;
  /** rect: fill; line: stroke; text: fill. */
  colour: string;
  radius?: number;
  dashed?: boolean;
  strokeWidth?: number;
  text?: string;
  fontSize?: number;
  fontWeight?: string;
  anchor?: 'start' | 'middle' | 'end';
}

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number) => String(Math.round(v * 10) / 10);

/** The SVG document for shapes on a `width` × `height` canvas with a background and a title. */
export function svgDocument(
  shapes: readonly SvgShape[],
  size: { width: number; height: number; background: string; title: string },
): string {
  const body = shapes.map((s) => {
    if (s.kind === 'rect')
      return `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w ?? 0)}" height="${n(s.h ?? 0)}"${s.radius ? ` rx="${n(s.radius)}"` : ''} fill="${s.colour}"/>`;
    if (s.kind === 'line')
      return `<line x1="${n(s.x)}" y1="${n(s.y)}" x2="${n(s.x + (s.w ?? 0))}" y2="${n(s.y)}" stroke="${s.colour}" stroke-width="${n(s.strokeWidth ?? 1)}"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
    return `<text x="${n(s.x)}" y="${n(s.y)}" font-size="${n(s.fontSize ?? 12)}"${s.fontWeight && s.fontWeight !== '400' ? ` font-weight="${s.fontWeight}"` : ''} text-anchor="${s.anchor ?? 'start'}" dominant-baseline="central" fill="${s.colour}">${escapeXml(s.text ?? '')}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(size.width)}" height="${n(size.height)}" viewBox="0 0 ${n(size.width)} ${n(size.height)}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(size.title)}</title>`,
    `<rect width="100%" height="100%" fill="${size.background}"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

let probe: CanvasRenderingContext2D | null = null;
const colourCache = new Map<string, string | null>();

/**
 * A computed CSS colour (which may be `color(srgb …)` or `color-mix(…)`) as `rgb()`/`rgba()`, which
 * every SVG viewer reads: painted on a 1-pixel canvas and read back. Null for transparent.
 */
export function plainColour(css: string): string | null {
  if (colourCache.has(css)) return colourCache.get(css)!;
  probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  let out: string | null = null;
  if (probe) {
    probe.clearRect(0, 0, 1, 1);
    probe.fillStyle = '#000';
    probe.fillStyle = css;
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
    if (a) out = a === 255 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${(a! / 255).toFixed(3)})`;
  }
  colourCache.set(css, out);
  return out;
}

/** The shapes of `root` and everything in it, relative to `root`'s top-left corner. */
export function shapesOf(root: HTMLElement): SvgShape[] {
  const origin = root.getBoundingClientRect();
  const shapes: SvgShape[] = [];
  const walk = (el: Element) => {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') return;
    const box = el.getBoundingClientRect();
    const x = box.left - origin.left;
    const y = box.top - origin.top;
    const opacity = Number(style.opacity) || 1;
    const fill = plainColour(style.backgroundColor);
    if (fill && box.width > 0 && box.height > 0) {
      shapes.push({
        kind: 'rect',
        x,
        y,
        w: box.width,
        h: box.height,
        colour: opacity < 1 ? withAlpha(fill, opacity) : fill,
        radius: parseFloat(style.borderTopLeftRadius) || 0,
      });
    }
    for (const side of ['Top', 'Bottom'] as const) {
      const width = parseFloat(style[`border${side}Width`]);
      const colour = plainColour(style[`border${side}Color`]);
      if (width > 0 && colour && style[`border${side}Style`] !== 'none' && box.width > 0)
        shapes.push({
          kind: 'line',
          x,
          y: side === 'Top' ? y + width / 2 : y + box.height - width / 2,
          w: box.width,
          colour,
          strokeWidth: width,
          dashed: style[`border${side}Style`] === 'dashed',
        });
    }
    const text = [...el.childNodes]
      .filter((c) => c.nodeType === Node.TEXT_NODE)
      .map((c) => c.textContent ?? '')
      .join('')
      .trim();
    if (text) {
      const align = style.textAlign;
      const anchor = align === 'center' || el.tagName === 'BUTTON' ? 'middle' : align === 'right' ? 'end' : 'start';
      const padLeft = parseFloat(style.paddingLeft) || 0;
      const padRight = parseFloat(style.paddingRight) || 0;
      shapes.push({
        kind: 'text',
        x: anchor === 'middle' ? x + box.width / 2 : anchor === 'end' ? x + box.width - padRight : x + padLeft,
        y: y + box.height / 2,
        colour: plainColour(style.color) ?? 'rgb(0, 0, 0)',
        text,
        fontSize: parseFloat(style.fontSize) || 12,
        fontWeight: style.fontWeight,
        anchor,
      });
    }
    for (const child of el.children) walk(child);
  };
  for (const child of root.children) walk(child);
  return shapes;
}

function withAlpha(rgb: string, alpha: number): string {
  const m = /rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)/.exec(rgb);
  if (!m) return rgb;
  const a = (m[4] === undefined ? 1 : Number(m[4])) * alpha;
  return `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${a.toFixed(3)})`;
}

/** The chart in `root` as an SVG document, on the background of the panel that holds it. */
export function chartSvg(root: HTMLElement, title: string): string {
  const box = root.getBoundingClientRect();
  return svgDocument(shapesOf(root), {
    width: box.width,
    height: box.height,
    background: chartBackground(root),
    title,
  });
}

/** The background the chart is drawn on: the nearest one of it or its ancestors, else white. */
function chartBackground(root: HTMLElement): string {
  let background: string | null = null;
  for (let el: Element | null = root; el && !background; el = el.parentElement)
    background = plainColour(getComputedStyle(el).backgroundColor);
  return background ?? 'rgb(255, 255, 255)';
}

/** How many canvas pixels a CSS pixel of the chart becomes in a PNG: 2, as a 2× (retina) screen shows it. */
export const PNG_SCALE = 2;

/**
 * The chart in `root` as a PNG: its SVG (`chartSvg`) drawn on a canvas of `scale` × the chart's
 * size, rounded to whole pixels, filled with the SVG's background. In the page, no file access.
 */
export async function chartPng(root: HTMLElement, title: string, scale = PNG_SCALE): Promise<Blob> {
  const box = root.getBoundingClientRect();
  const svg = chartSvg(root, title);
  const width = Math.max(1, Math.round(box.width * scale));
  const height = Math.max(1, Math.round(box.height * scale));
  const image = new Image(width, height);
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser gives no 2D canvas to draw the PNG on');
  // The SVG's own background, under it too: its size (to 0.1 px) scaled to whole pixels may leave
  // an edge of partly covered pixels, which stay opaque this way.
  context.fillStyle = chartBackground(root);
  context.fillRect(0, 0, width, height);
  context.drawImage(image, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The canvas gave no PNG'))), 'image/png'),
  );
}

/** Hands `svg` to the browser as a download named `fileName` (the desktop shell asks where to save it). */
export function downloadSvg(svg: string, fileName: string): void {
  download(new Blob([svg], { type: 'image/svg+xml' }), fileName);
}

/** Hands a file's contents to the browser as a download named `fileName`, as `downloadSvg` does. */
export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
