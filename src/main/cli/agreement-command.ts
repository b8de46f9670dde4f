import { parseArgs } from 'node:util';
import type { AgreementReport, Estimate } from '../../shared/contract';
import { AgreementService } from '../agreement/agreement-service';
import { ProjectStore } from '../project/project-store';
import { UsageError } from './predict-command';

export const AGREEMENT_USAGE = `  wavfusion agreement --project FILE [--json] [--bootstrap N] [--seed N]
                                                   inter-annotator agreement report (κ, α, CCC, consensus)`;

/** `wavfusion agreement`: the agreement report of a project, as text or JSON. Read-only. */
export function agreementCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      json: { type: 'boolean', default: false },
      bootstrap: { type: 'string', default: '200' },
      seed: { type: 'string', default: '13' },
    },
  });
  if (!values.project) throw new UsageError('agreement needs --project FILE');
  const bootstrap = Number(values.bootstrap);
  const seed = Number(values.seed);
  if (!Number.isInteger(bootstrap) || bootstrap < 0 || bootstrap > 10000)
    throw new UsageError(`--bootstrap must be 0-10000, got ${values.bootstrap}`);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
  const store = ProjectStore.open(values.project, { create: false });
  try {
    const report = new AgreementService(store).report({ bootstrap, seed });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatAgreement(report));
    return 0;
  } finally {
    store.close();
  }
}

const num = (v: number | null, digits = 3) => (v === null ? '—' : v.toFixed(digits));
const est = (e: Estimate) => `${num(e.value)}${e.ci ? ` [${num(e.ci.low)}, ${num(e.ci.high)}]` : ''}  (n=${e.n})`;

/** The report as text for a terminal. */
export function formatAgreement(r: AgreementReport): string {
  const lines: string[] = [];
  const s = r.settings;
  lines.push(`Agreement: ${r.project}`);
  lines.push(
    `${r.annotators.length} annotator(s): ${r.annotators.join(', ') || '—'}; ${r.items} labelled utterance(s), ` +
      `${r.pairableItems} with 2 or more labels`,
  );
  lines.push(
    `Settings: ${s.labelsPerUtterance} label(s) per utterance, ${s.consensusRule} rule, blind ${s.blind ? 'on' : 'off'}`,
  );
  lines.push(
    `Consensus: ${r.consensus.agreed} agreed, ${r.consensus.disagreed} disagreed, ` +
      `${r.consensus.adjudicated} adjudicated, ${r.consensus.pending} pending`,
  );
  for (const w of r.warnings) lines.push(`! ${w}`);
  const ci = r.bootstrap.replicates
    ? ` (95% bootstrap CI, ${r.bootstrap.replicates} replicates, seed ${r.bootstrap.seed})`
    : '';
  lines.push('', `Labels${ci}`);
  lines.push(`  Krippendorff's α (nominal)  ${est(r.categorical.krippendorffAlpha)}`);
  lines.push(`  Fleiss' κ                   ${est(r.categorical.fleissKappa)}`);
  if (r.categorical.pairwise.length) {
    lines.push("  Cohen's κ per pair:");
    for (const p of r.categorical.pairwise)
      lines.push(
        `    ${p.a} – ${p.b}: ${num(p.kappa)}${p.ci ? ` [${num(p.ci.low)}, ${num(p.ci.high)}]` : ''}  (n=${p.n})`,
      );
  }
  if (r.categorical.perAnnotator.length) {
    lines.push('  Each annotator vs the consensus of the others (accuracy, κ):');
    for (const a of r.categorical.perAnnotator)
      lines.push(`    ${a.annotator}: ${num(a.accuracy)}, κ ${num(a.kappa)}  (n=${a.n})`);
  }
  const m = r.categorical.model;
  if (m) lines.push(`  Model ${m.name} vs the consensus: ${num(m.accuracy)}, κ ${num(m.kappa)}  (n=${m.n})`);
  lines.push('  Per class (specific agreement):');
  for (const c of r.categorical.perClass) lines.push(`    ${c.label}: ${num(c.agreement)}  (${num(c.votes, 1)} votes)`);
  if (r.categorical.confusedPairs.length) {
    lines.push('  Most confused:');
    for (const p of r.categorical.confusedPairs.slice(0, 5)) lines.push(`    ${p.a} / ${p.b}: ${num(p.count, 1)}`);
  }
  for (const d of ['valence', 'arousal', 'dominance'] as const) {
    const dim = r.dimensions[d];
    if (dim.alphaInterval.value === null && dim.ccc.every((c) => c.ccc === null)) continue;
    lines.push('', `${d[0]!.toUpperCase()}${d.slice(1)}`);
    lines.push(`  Krippendorff's α (interval) ${est(dim.alphaInterval)}`);
    lines.push(`  Krippendorff's α (ordinal)  ${est(dim.alphaOrdinal)}`);
    lines.push("  Lin's CCC vs the mean of the others:");
    for (const c of dim.ccc) lines.push(`    ${c.annotator}: ${num(c.ccc)}  (n=${c.n})`);
  }
  return `${lines.join('\n')}\n`;
}
