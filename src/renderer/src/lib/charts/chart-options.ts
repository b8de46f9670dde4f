/**
 * The studio's charts as data + ECharts options: the model report's confusion heatmap and reliability
 * diagram, and the Train dialog's training curve. Pure functions of the data and the theme's colours
 * (no DOM, no ECharts instance), so that they are tested in Node; `Chart.svelte` draws them.
 */
import type { BarSeriesOption, HeatmapSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import type { ModelReport } from '../../../../shared/contract';
import { AA_CONTRAST, contrast } from '../util/colour';

export type ChartOption = ComposeOption<
  | HeatmapSeriesOption
  | BarSeriesOption
  | LineSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
>;

/** The theme's colours a chart is drawn in (`#rrggbb`), read from the app's CSS variables. */
export interface ChartColours {
  /** The panel the chart sits on (--panel): the chart's and its saved files' background. */
  background: string;
  text: string;
  muted: string;
  faint: string;
  /** Axis lines (--border-strong) and grid lines (--divider). */
  axis: string;
  grid: string;
  accent: string;
  /** Lines and links in the accent, readable on the background (--accent-text). */
  accentText: string;
  warning: string;
  font: string;
}

/** The light theme's colours (app.css :root), where a variable cannot be read. */
export const LIGHT_COLOURS: ChartColours = {
  background: '#ffffff',
  text: '#1c2430',
  muted: '#5d6878',
  faint: '#677180',
  axis: '#c3cad5',
  grid: '#eceff3',
  accent: '#3654c4',
  accentText: '#3654c4',
  warning: '#a35200',
  font: 'system-ui, sans-serif',
};

const VARIABLES: Record<Exclude<keyof ChartColours, 'font'>, string> = {
  background: '--panel',
  text: '--text',
  muted: '--muted',
  faint: '--faint',
  axis: '--border-strong',
  grid: '--divider',
  accent: '--accent',
  accentText: '--accent-text',
  warning: '--warning',
};

/** The chart colours from a CSS variable reader (e.g. getComputedStyle(el).getPropertyValue). */
export function chartColours(read: (variable: string) => string): ChartColours {
  const out = { ...LIGHT_COLOURS };
  for (const [key, variable] of Object.entries(VARIABLES) as [keyof typeof VARIABLES, string][]) {
    const value = read(variable).trim();
    if (/^#[0-9a-f]{6}$/i.test(value)) out[key] = value.toLowerCase();
  }
  const font = read('--font').trim();
  if (font) out.font = font;
  return out;
}

const channels = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

/** `a` mixed with `t` (0–1) of `b`, as `#rrggbb`. */
export function mix(a: string, b: string, t: number): string {
  const [x, y] = [channels(a), channels(b)];
  return `#${x
    .map((c, i) =>
      Math.round(c + (y[i]! - c) * t)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/**
 * The text colour that reads best on `fill`: the theme's text or background colour, or black or white
 * where the shade lies between them and neither of the theme's reaches WCAG AA.
 */
export function inkOn(fill: string, colours: ChartColours): string {
  const best = [colours.text, colours.background].reduce((a, b) => (contrast(fill, b) > contrast(fill, a) ? b : a));
  if (contrast(fill, best) >= AA_CONTRAST) return best;
  return contrast(fill, '#000000') >= contrast(fill, '#ffffff') ? '#000000' : '#ffffff';
}

const percent = (v: number, digits = 0) => `${(100 * v).toFixed(digits)} %`;

/** Text, axes, grid lines and tooltip in the theme's colours, shared by every chart. */
function base(colours: ChartColours): ChartOption {
  return {
    // Drawn at once: what is saved is what is shown, and nothing moves for people who asked for less motion.
    animation: false,
    backgroundColor: colours.background,
    textStyle: { color: colours.text, fontFamily: colours.font, fontSize: 12 },
    tooltip: {
      backgroundColor: colours.background,
      borderColor: colours.axis,
      textStyle: { color: colours.text, fontFamily: colours.font, fontSize: 12 },
      confine: true,
    },
  };
}

function axis(colours: ChartColours) {
  return {
    nameTextStyle: { color: colours.muted, fontSize: 11 },
    axisLine: { lineStyle: { color: colours.axis } },
    axisTick: { lineStyle: { color: colours.axis } },
    axisLabel: { color: colours.muted, fontSize: 11 },
    splitLine: { lineStyle: { color: colours.grid } },
  };
}

function legend(colours: ChartColours): LegendComponentOption {
  return { top: 0, textStyle: { color: colours.muted, fontSize: 11 }, itemWidth: 18, itemHeight: 10 };
}

/** One cell of the confusion heatmap: human label row `row`, model column `col`. */
export interface ConfusionCell {
  row: number;
  col: number;
  count: number;
  /** The row's share (null where the row has no support). */
  share: number | null;
  /** What the cell shows: the count, or its row share, or "—" for a row with no items. */
  text: string;
}

/** The confusion matrix's cells, row by row, as the heatmap and its table show them. */
export function confusionCells(report: ModelReport, view: 'counts' | 'rows'): ConfusionCell[] {
  return report.classes.flatMap((_, i) =>
    report.classes.map((__, j) => {
      const count = report.confusion.counts[i]?.[j] ?? 0;
      const share = report.confusion.normalised[i]?.[j] ?? null;
      const text = view === 'counts' ? String(count) : share === null ? '—' : percent(share);
      return { row: i, col: j, count, share, text };
    }),
  );
}

/**
 * The confusion heatmap: rows the human label (first on top), columns the model's, each cell shaded
 * by its count (or row share) from the background to the accent, its text in whichever of the theme's
 * text and background colours reads better on it; the diagonal outlined.
 */
export function confusionOption(report: ModelReport, view: 'counts' | 'rows', colours: ChartColours): ChartOption {
  const cells = confusionCells(report, view);
  const max = Math.max(1, ...cells.map((c) => c.count));
  const names = report.classes.map((c) => c.label);
  // The diagonal last, so that its outline is drawn over its neighbours' edges.
  const order = [...cells].sort((a, b) => Number(a.row === a.col) - Number(b.row === b.col));
  const data = order.map((c) => {
    const shade = view === 'rows' ? (c.share ?? 0) : c.count / max;
    const fill = mix(colours.background, colours.accent, 0.06 + shade * 0.84);
    const ink = inkOn(fill, colours);
    return {
      value: [c.col, c.row, c.count],
      itemStyle: {
        color: fill,
        borderColor: c.row === c.col ? colours.accentText : colours.background,
        borderWidth: c.row === c.col ? 2 : 1,
      },
      // A zero is there, but quieter than a count (in the theme's secondary text, where that reads at AA).
      label: { color: c.count === 0 && contrast(fill, colours.faint) >= AA_CONTRAST ? colours.faint : ink },
    };
  });
  /** The cell a data item of the series is. */
  const cellOf = (p: unknown) => {
    const [col, row] = ((p as { value?: number[] }).value ?? []) as [number?, number?];
    return col === undefined || row === undefined ? undefined : cells[row * names.length + col];
  };
  const ax = axis(colours);
  return {
    ...base(colours),
    tooltip: {
      ...base(colours).tooltip,
      formatter: (p: unknown) => {
        const c = cellOf(p);
        if (!c) return '';
        const share = c.share === null ? 'no labelled items in this row' : `${percent(c.share, 1)} of the row`;
        return `${c.count} utterance(s) labelled ${escapeHtml(names[c.row]!)}, predicted ${escapeHtml(names[c.col]!)} (${share})`;
      },
    },
    grid: { left: 24, right: 12, top: 40, bottom: 8 },
    xAxis: {
      ...ax,
      type: 'category',
      position: 'top',
      data: names,
      name: 'Model',
      nameLocation: 'middle',
      nameGap: 24,
      splitArea: { show: false },
      axisLabel: { ...ax.axisLabel, interval: 0, width: 80, overflow: 'truncate' },
    },
    yAxis: {
      ...ax,
      type: 'category',
      inverse: true,
      data: names,
      name: 'Human',
      nameLocation: 'middle',
      nameGap: 12,
      axisLabel: { ...ax.axisLabel, interval: 0, width: 90, overflow: 'truncate' },
    },
    series: [
      {
        type: 'heatmap',
        name: 'Confusion',
        data,
        cursor: 'pointer',
        label: {
          show: true,
          fontSize: 13,
          fontFamily: colours.font,
          formatter: (p: unknown) => cellOf(p)?.text ?? '',
        },
        emphasis: { itemStyle: { borderColor: colours.text, borderWidth: 2 } },
      },
    ],
  };
}

type Bins = NonNullable<ModelReport['calibration']>['bins'];

/**
 * The reliability diagram: per confidence bin, the share of correct predictions (bars), their mean
 * confidence (line) and the ideal (dashed, the bin's middle); below each bin its upper edge and count.
 */
export function reliabilityOption(bins: Bins, colours: ChartColours): ChartOption {
  const ax = axis(colours);
  const ticks = bins.map((b) => `${b.upper.toFixed(1)}\n${b.count}`);
  return {
    ...base(colours),
    tooltip: {
      ...base(colours).tooltip,
      trigger: 'axis',
      formatter: (p: unknown) => {
        const b = bins[(p as { dataIndex: number }[])[0]?.dataIndex ?? -1];
        if (!b) return '';
        const range = `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}`;
        if (!b.count) return `${range}: no items`;
        return `${range}: ${b.count} item(s), ${percent(b.accuracy ?? 0, 1)} correct, mean confidence ${percent(b.confidence ?? 0, 1)}`;
      },
    },
    legend: {
      ...legend(colours),
      data: [
        'Share correct',
        'Mean confidence',
        // A dashed line, as drawn (not a line with a dot).
        { name: 'Ideal', itemStyle: { opacity: 0 }, lineStyle: { type: 'dashed' } },
      ],
    },
    grid: { left: 8, right: 12, top: 30, bottom: 24 },
    xAxis: {
      ...ax,
      type: 'category',
      data: ticks,
      name: 'Confidence bin (upper edge) · items',
      nameLocation: 'middle',
      nameGap: 36,
      axisLabel: { ...ax.axisLabel, interval: 0, lineHeight: 13 },
      axisTick: { ...ax.axisTick, alignWithLabel: true },
    },
    yAxis: {
      ...ax,
      type: 'value',
      min: 0,
      max: 1,
      interval: 0.25,
      axisLabel: { ...ax.axisLabel, formatter: (v: number) => percent(v) },
    },
    series: [
      {
        type: 'bar',
        name: 'Share correct',
        data: bins.map((b) => (b.count ? b.accuracy : null)),
        barWidth: '70%',
        itemStyle: { color: colours.accent, borderRadius: [2, 2, 0, 0] },
      },
      {
        type: 'line',
        name: 'Mean confidence',
        data: bins.map((b) => (b.count ? b.confidence : null)),
        connectNulls: false,
        symbol: 'circle',
        symbolSize: 6,
        itemStyle: { color: colours.warning },
        lineStyle: { color: colours.warning, width: 2 },
      },
      {
        type: 'line',
        name: 'Ideal',
        data: bins.map((b) => (b.lower + b.upper) / 2),
        symbol: 'none',
        silent: true,
        itemStyle: { color: colours.faint },
        lineStyle: { color: colours.faint, width: 1, type: 'dashed' },
      },
    ],
  };
}

/**
 * The training curve: loss (left axis) and validation UA (right axis, %) per epoch, over the epochs
 * planned (`epochs`, while it runs) or those drawn, whichever is more.
 */
export function trainingCurveOption(
  curve: readonly (readonly [number, number, number])[],
  epochs: number,
  colours: ChartColours,
): ChartOption {
  const ax = axis(colours);
  const last = Math.max(1, epochs, ...curve.map(([e]) => e));
  const line = (name: string, colour: string, yAxisIndex: number, data: [string, number][]): LineSeriesOption => ({
    type: 'line',
    name,
    yAxisIndex,
    data,
    symbol: 'circle',
    symbolSize: 6,
    itemStyle: { color: colour },
    lineStyle: { color: colour, width: 2 },
  });
  return {
    ...base(colours),
    tooltip: { ...base(colours).tooltip, trigger: 'axis' },
    legend: { ...legend(colours), data: ['Loss', 'Validation UA'] },
    grid: { left: 8, right: 8, top: 30, bottom: 24 },
    xAxis: {
      ...ax,
      type: 'category',
      data: Array.from({ length: last }, (_, i) => String(i + 1)),
      name: 'Epoch',
      nameLocation: 'middle',
      nameGap: 24,
      axisTick: { ...ax.axisTick, alignWithLabel: true },
    },
    yAxis: [
      { ...ax, type: 'value', name: 'Loss', nameLocation: 'end', min: 0 },
      {
        ...ax,
        type: 'value',
        name: 'Validation UA',
        nameLocation: 'end',
        min: 0,
        max: 1,
        splitLine: { show: false },
        axisLabel: { ...ax.axisLabel, formatter: (v: number) => percent(v) },
      },
    ],
    series: [
      line(
        'Loss',
        colours.warning,
        0,
        curve.map(([e, loss]) => [String(e), loss]),
      ),
      line(
        'Validation UA',
        colours.accentText,
        1,
        curve.map(([e, , ua]) => [String(e), ua]),
      ),
    ],
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
