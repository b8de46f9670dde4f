import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConsensusFilter, UtteranceFilter, type ModelComparison, type ModelReport } from '../../shared/contract';
import { Studio } from '../api/studio';
import { StudioError } from '../errors';
import { readModelBundle } from '../inference/model-bundle';
import { UsageError } from './predict-command';

export const EVALUATE_USAGE = `  wavfusion evaluate --project FILE [--model NAME|DIR] [--compare NAME|DIR] [--filter KEY=VALUE]... [--json]
                                                   the model report: the model's stored predictions against
                                                   the human labels (WA, UA, F1, κ, confusion, calibration);
                                                   --model: a model's name (NAME@VERSION) or bundle folder
                                                   (default: the active model); --compare: a second version
                                                   side by side; --filter speaker=S, label=NAME (human label),
                                                   search=TEXT, max-confidence=P, consensus=STATE`;

const FILTER_KEYS = ['speaker', 'label', 'search', 'max-confidence', 'consensus'] as const;

/** `wavfusion evaluate`: the model report (and a comparison) of a project, as text or JSON. Read-only. */
export async function evaluateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      model: { type: 'string' },
      compare: { type: 'string' },
      filter: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.project) throw new UsageError('evaluate needs --project FILE');
  const studio = Studio.open(values.project, { create: false });
  try {
    const filter = parseFilter(values.filter!, studio);
    const modelId = values.model === undefined ? undefined : await findModel(studio, values.model);
    const report = studio.evaluation.report({ modelId, filter });
    const comparison =
      values.compare === undefined
        ? null
        : studio.evaluation.compare({ a: report.model.id, b: await findModel(studio, values.compare), filter });
    if (values.json) process.stdout.write(`${JSON.stringify({ report, comparison }, null, 2)}\n`);
    else process.stdout.write(formatReport(report) + (comparison ? formatComparison(comparison) : ''));
    return 0;
  } finally {
    studio.store.close();
  }
}

function parseFilter(entries: string[], studio: Studio): Partial<UtteranceFilter> {
  const filter: Partial<UtteranceFilter> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = entry.slice(0, eq) as (typeof FILTER_KEYS)[number];
    const value = entry.slice(eq + 1);
    if (eq < 1 || !FILTER_KEYS.includes(key))
      throw new UsageError(`--filter takes KEY=VALUE with KEY one of ${FILTER_KEYS.join(', ')}; got "${entry}"`);
    if (key === 'speaker') filter.speaker = value;
    else if (key === 'search') filter.search = value;
    else if (key === 'label') {
      const label = studio.store.labels.byName(value);
      if (!label) throw new UsageError(`--filter label=${value}: the project has no such label`);
      filter.labelId = label.id;
    } else if (key === 'max-confidence') {
      const p = Number(value);
      if (!(p >= 0 && p <= 1)) throw new UsageError(`--filter max-confidence must be 0-1, got ${value}`);
      filter.maxConfidence = p;
    } else {
      const state = ConsensusFilter.safeParse(value);
      if (!state.success)
        throw new UsageError(`--filter consensus must be one of ${ConsensusFilter.options.join(', ')}, got ${value}`);
      filter.consensus = state.data;
    }
  }
  return filter;
}

/** A registered model by name (the team's or the bundle's, `NAME@VERSION` for one version) or bundle folder. */
async function findModel(studio: Studio, spec: string): Promise<number> {
  const models = studio.store.models.list();
  if (fs.existsSync(path.join(spec, 'model.json'))) {
    const bundle = await readModelBundle(spec);
    const m = models.find(
      (r) => r.name === bundle.manifest.name && r.version === bundle.manifest.version && r.checksum === bundle.checksum,
    );
    if (!m)
      throw new StudioError(
        'not_found',
        `The bundle ${path.resolve(spec)} has no predictions in this project: add it in the studio (Run model…) ` +
          `and run it on the labelled utterances first`,
      );
    return m.id;
  }
  const [name, version] = spec.split('@') as [string, string | undefined];
  const matches = models.filter(
    (m) =>
      [m.displayName, m.name].some((n) => n?.toLowerCase() === name.toLowerCase()) &&
      (version === undefined || m.version === version),
  );
  if (matches.length === 0) {
    const known = models.map((m) => `${m.displayName ?? m.name}@${m.version}`).join(', ') || 'none';
    throw new StudioError('not_found', `No model "${spec}" in this project (models: ${known})`);
  }
  // Several versions of one name: the newest registered.
  return matches.at(-1)!.id;
}

const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(1)} %`);

/** The report as text for a terminal. */
export function formatReport(r: ModelReport): string {
  const lines: string[] = [];
  lines.push(`Model report: ${r.model.name} ${r.model.version}`);
  lines.push(`${r.items} labelled utterance(s) with a prediction (${r.labelled} labelled in scope)`);
  if (r.message) lines.push(`! ${r.message}`);
  for (const w of r.warnings) lines.push(`! ${w}`);
  if (r.metrics) {
    const m = r.metrics;
    lines.push(
      '',
      `  WA ${pct(m.wa)}   UA ${pct(m.ua)}   macro-F1 ${num(m.macroF1)}   weighted F1 ${num(m.weightedF1)}`,
    );
    lines.push(`  Cohen's κ model vs human ${num(m.kappa)}`);
    lines.push('', '  class          precision  recall     F1  support');
    for (const c of r.perClass)
      lines.push(
        `  ${c.label.padEnd(14)} ${num(c.precision).padStart(9)} ${num(c.recall).padStart(7)} ${num(c.f1).padStart(6)} ${String(c.support).padStart(8)}`,
      );
  }
  if (r.items > 0) {
    lines.push('', '  Confusion (rows: human, columns: model)');
    const width = Math.max(6, ...r.classes.map((c) => c.label.length)) + 1;
    lines.push(`  ${''.padEnd(width)}${r.classes.map((c) => c.label.padStart(width)).join('')}`);
    r.confusion.counts.forEach((row, i) =>
      lines.push(`  ${r.classes[i]!.label.padEnd(width)}${row.map((v) => String(v).padStart(width)).join('')}`),
    );
  }
  if (r.calibration) {
    const c = r.calibration;
    lines.push('', `  Calibration: ECE ${num(c.ece)}, MCE ${num(c.mce)}`);
    for (const b of c.bins)
      if (b.count)
        lines.push(
          `    (${b.lower.toFixed(1)}, ${b.upper.toFixed(1)}]  n=${String(b.count).padStart(4)}  confidence ${num(b.confidence)}  accuracy ${num(b.accuracy)}`,
        );
    for (const t of c.thresholds)
      lines.push(
        t.threshold === null
          ? `    ${pct(t.target)} precision: not reached at any threshold`
          : `    ${pct(t.target)} precision: accept confidence ≥ ${num(t.threshold)} (${t.count} item(s), precision ${pct(t.precision)})`,
      );
  }
  const groups = [
    ['Transcript', r.breakdowns.transcript],
    ['Speaker', r.breakdowns.speaker],
    ['Folder', r.breakdowns.folder],
  ] as const;
  if (r.items > 0)
    for (const [title, list] of groups) {
      lines.push('', `  By ${title.toLowerCase()}:`);
      for (const g of list)
        lines.push(
          g.metrics
            ? `    ${g.key}: n=${g.n}  WA ${pct(g.metrics.wa)}  UA ${pct(g.metrics.ua)}  macro-F1 ${num(g.metrics.macroF1)}`
            : `    ${g.key}: ${g.note}`,
        );
    }
  return `${lines.join('\n')}\n`;
}

export function formatComparison(c: ModelComparison): string {
  const lines = [
    '',
    `Compared: A = ${c.a.name} ${c.a.version}, B = ${c.b.name} ${c.b.version} on ${c.items} utterance(s)`,
  ];
  if (c.message) lines.push(`! ${c.message}`);
  if (c.metricsA && c.metricsB && c.deltas) {
    const sign = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`);
    for (const k of ['wa', 'ua', 'macroF1', 'weightedF1', 'kappa'] as const)
      lines.push(`  ${k.padEnd(11)} A ${num(c.metricsA[k])}  B ${num(c.metricsB[k])}  B−A ${sign(c.deltas[k])}`);
  }
  lines.push(`  A right, B wrong: ${c.aRightBWrong.count}; B right, A wrong: ${c.bRightAWrong.count}`);
  return `${lines.join('\n')}\n`;
}
