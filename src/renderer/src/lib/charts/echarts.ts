/**
 * Apache ECharts, tree-shaken to what the studio draws (heatmap, bar, line on a grid, with legend and
 * tooltip) and its SVG renderer only, plus saving a chart as SVG and PNG. Browser code; the options
 * themselves are built in `chart-options.ts`. `Chart.svelte` imports this module on demand, so that
 * ECharts is a chunk of its own, loaded when a dialog first shows a chart, not at the studio's start.
 */
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendPlainComponent, TooltipComponent } from 'echarts/components';
import { init, use, type EChartsType } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

use([HeatmapChart, BarChart, LineChart, GridComponent, LegendPlainComponent, TooltipComponent, SVGRenderer]);

export { init, type EChartsType };

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The chart as a standalone SVG document, as ECharts' SVG renderer draws it now (its background rect
 * included), with `title` as its <title>.
 */
export function chartSvg(chart: EChartsType, title: string): string {
  const svg = chart.renderToSVGString({ useViewBox: true });
  return svg.replace(/<svg\b[^>]*>/, (open) => `${open}<title>${escapeXml(title)}</title>`) + '\n';
}

/** How many canvas pixels a CSS pixel of the chart becomes in a PNG: 2, as a 2× (retina) screen shows it. */
export const PNG_SCALE = 2;

/**
 * The chart as a PNG of `scale` × its size on the page (`box`, rounded to whole pixels): its SVG
 * (`chartSvg`) drawn on a canvas filled with `background` first, so that no edge pixel is left clear.
 */
export async function chartPng(
  chart: EChartsType,
  title: string,
  box: { width: number; height: number },
  background: string,
  scale = PNG_SCALE,
): Promise<Blob> {
  const width = Math.max(1, Math.round(box.width * scale));
  const height = Math.max(1, Math.round(box.height * scale));
  const image = new Image(width, height);
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(chartSvg(chart, title))}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser gives no 2D canvas to draw the PNG on');
  context.fillStyle = background;
  context.fillRect(0, 0, width, height);
  context.drawImage(image, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The canvas gave no PNG'))), 'image/png'),
  );
}
