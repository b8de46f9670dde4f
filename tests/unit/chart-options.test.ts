import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chartColours,
  confusionCells,
  confusionOption,
  inkOn,
  mix,
  reliabilityOption,
  trainingCurveOption,
  type ChartColours,
} from '../../src/renderer/src/lib/charts/chart-options';
import { AA_CONTRAST, contrast } from '../../src/renderer/src/lib/util/colour';
import type { ModelReport } from '../../src/shared/contract';

/** The CSS variables of one block of the app's stylesheet (`:root {` or `:root[data-theme='dark'] {`). */
function themeVariables(opening: string): Map<string, string> {
  const css = fs.readFileSync(path.join(import.meta.dirname, '../../src/renderer/src/app.css'), 'utf8');
  const start = css.indexOf(opening);
  expect(start, opening).toBeGreaterThanOrEqual(0);
  const block = css.slice(start + opening.length, css.indexOf('\n}', start));
  return new Map([...block.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

const THEMES: Record<'light' | 'dark', ChartColours> = {
  light: chartColours((v) => themeVariables(':root {').get(v) ?? ''),
  dark: chartColours((v) => themeVariables(":root[data-theme='dark'] {").get(v) ?? ''),
};

/** A report of three classes; the third ("sad") has no labelled item, the model predicts it once. */
function report(): ModelReport {
  const counts = [
    [8, 2, 0],
    [1, 9, 1],
    [0, 0, 0],
  ];
  return {
    model: { id: 1, name: 'demo', version: '1.0.0' },
    status: 'ok',
    message: null,
    labelled: 21,
    items: 21,
    warnings: [],
    classes: ['neutral', 'happy', 'sad'].map((label, i) => ({ label, labelId: i + 1 })),
    metrics: null,
    perClass: [],
    confusion: {
      counts,
      normalised: counts.map((row) => {
        const n = row.reduce((a, b) => a + b, 0);
        return n ? row.map((c) => c / n) : null;
      }),
    },
    calibration: null,
    breakdowns: { transcript: [], speaker: [], folder: [] },
  };
}

type Item = { value: number[]; itemStyle: { color: string; borderWidth: number }; label: { color: string } };
const series = (o: ReturnType<typeof confusionOption>) =>
  (o.series as { data: Item[]; label: { formatter: (p: unknown) => string } }[])[0]!;

describe('chart colours', () => {
  it('come from the app’s CSS variables of each theme: dark panel and light text in dark, the reverse in light', () => {
    expect(THEMES.light).toMatchObject({ background: '#ffffff', text: '#1c2430', accent: '#3654c4' });
    expect(THEMES.dark).toMatchObject({ background: '#171c24', text: '#e6eaf0', accentText: '#a5b4ff' });
    expect(THEMES.dark.font).toContain('system-ui');
  });

  it('keep the light defaults for a variable that is missing or not #rrggbb', () => {
    const c = chartColours((v) =>
      v === '--panel' ? 'color-mix(in srgb, red, blue)' : v === '--text' ? '#ABCDEF' : '',
    );
    expect(c.background).toBe('#ffffff');
    expect(c.text).toBe('#abcdef');
  });

  it('mix two colours in sRGB', () => {
    expect(mix('#000000', '#ffffff', 0)).toBe('#000000');
    expect(mix('#000000', '#ffffff', 1)).toBe('#ffffff');
    expect(mix('#000000', '#ff8040', 0.5)).toBe('#804020');
  });

  it('put every heatmap count in text that reads at WCAG AA on its cell, at every shade, in both themes', () => {
    for (const [theme, colours] of Object.entries(THEMES)) {
      for (let share = 0; share <= 1; share += 0.05) {
        const fill = mix(colours.background, colours.accent, 0.06 + share * 0.84);
        expect(contrast(fill, inkOn(fill, colours)), `${theme} at ${share.toFixed(2)}`).toBeGreaterThanOrEqual(
          AA_CONTRAST,
        );
      }
    }
  });
});

describe('confusion heatmap', () => {
  it('shows counts, or row shares with "—" for the row with no labelled items', () => {
    expect(confusionCells(report(), 'counts').map((c) => c.text)).toEqual([
      '8',
      '2',
      '0',
      '1',
      '9',
      '1',
      '0',
      '0',
      '0',
    ]);
    expect(confusionCells(report(), 'rows').map((c) => c.text)).toEqual([
      '80 %',
      '20 %',
      '0 %',
      '9 %',
      '82 %',
      '9 %',
      '—',
      '—',
      '—',
    ]);
  });

  it('has one item per cell at [column, row, count], the diagonal last and outlined, each labelled with its text', () => {
    const option = confusionOption(report(), 'counts', THEMES.light);
    const s = series(option);
    expect(s.data).toHaveLength(9);
    expect(s.data.slice(-3).map((d) => d.value)).toEqual([
      [0, 0, 8],
      [1, 1, 9],
      [2, 2, 0],
    ]);
    expect(s.data.slice(-3).every((d) => d.itemStyle.borderWidth === 2)).toBe(true);
    expect(s.data.slice(0, 6).every((d) => d.itemStyle.borderWidth === 1)).toBe(true);
    expect(s.data.map((d) => s.label.formatter({ value: d.value }))).toEqual(s.data.map((d) => String(d.value[2])));
    // The fullest cell is the most shaded; an empty one stays near the background.
    const fill = (col: number, row: number) =>
      s.data.find((d) => d.value[0] === col && d.value[1] === row)!.itemStyle.color;
    expect(contrast(fill(1, 1), THEMES.light.background)).toBeGreaterThan(
      contrast(fill(0, 0), THEMES.light.background),
    );
    expect(contrast(fill(2, 0), THEMES.light.background)).toBeLessThan(1.2);
    // Every label, zeros (quieter) included, reads at AA on its cell, in both themes.
    for (const colours of Object.values(THEMES))
      for (const d of series(confusionOption(report(), 'counts', colours)).data)
        expect(contrast(d.itemStyle.color, d.label.color)).toBeGreaterThanOrEqual(AA_CONTRAST);
    expect(s.data.find((d) => d.value[2] === 0)!.label.color).toBe(THEMES.light.faint);
    const tooltip = (option.tooltip as { formatter: (p: unknown) => string }).formatter;
    expect(tooltip({ value: [0, 1, 1] })).toBe('1 utterance(s) labelled happy, predicted neutral (9.1 % of the row)');
    expect(tooltip({ value: [1, 2, 0] })).toBe(
      '0 utterance(s) labelled sad, predicted happy (no labelled items in this row)',
    );
    expect((option.yAxis as { inverse: boolean; data: string[] }).inverse).toBe(true);
    expect((option.xAxis as { data: string[] }).data).toEqual(['neutral', 'happy', 'sad']);
  });
});

describe('reliability diagram and training curve', () => {
  it('draws no bar and no confidence point for an empty bin, and the ideal through every bin’s middle', () => {
    const bins = [
      { lower: 0, upper: 0.5, count: 0, confidence: null, accuracy: null },
      { lower: 0.5, upper: 1, count: 4, confidence: 0.8, accuracy: 0.75 },
    ];
    const option = reliabilityOption(bins, THEMES.dark);
    const [bars, confidence, ideal] = option.series as { data: (number | null)[]; lineStyle?: { type?: string } }[];
    expect(bars!.data).toEqual([null, 0.75]);
    expect(confidence!.data).toEqual([null, 0.8]);
    expect(ideal!.data).toEqual([0.25, 0.75]);
    expect(ideal!.lineStyle?.type).toBe('dashed');
    expect((option.xAxis as { data: string[] }).data).toEqual(['0.5\n0', '1.0\n4']);
    expect(option.backgroundColor).toBe('#171c24');
  });

  it('plots loss and validation UA per epoch on an axis to the epochs planned', () => {
    const option = trainingCurveOption(
      [
        [1, 1.2, 0.4],
        [2, 0.9, 0.55],
      ],
      5,
      THEMES.light,
    );
    const [loss, ua] = option.series as { data: unknown[]; yAxisIndex: number }[];
    expect(loss).toMatchObject({
      data: [
        ['1', 1.2],
        ['2', 0.9],
      ],
      yAxisIndex: 0,
    });
    expect(ua).toMatchObject({
      data: [
        ['1', 0.4],
        ['2', 0.55],
      ],
      yAxisIndex: 1,
    });
    expect((option.xAxis as { data: string[] }).data).toEqual(['1', '2', '3', '4', '5']);
    // Past the plan (or with none), the axis reaches the last epoch drawn.
    expect((trainingCurveOption([[3, 1, 0.5]], 0, THEMES.dark).xAxis as { data: string[] }).data).toEqual([
      '1',
      '2',
      '3',
    ]);
  });
});
