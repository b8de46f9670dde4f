import { parseArgs } from 'node:util';
import { jobResult, type JobStatus, type TrainingReport, type TrainingSplitMetrics } from '../../shared/contract';
import { Studio } from '../api/studio';
import { UsageError } from './predict-command';

export const TRAIN_USAGE = `  wavfusion train --project FILE [--init-from DIR | --from-scratch] [--epochs N] [--python PATH]
                   [--threads N] [--max-train-items N] [--seed N] [--activate]
                                                   fine-tune on the project's human labels (the consensus
                                                   where there are several; speaker-independent split):
                                                   from the active model (default), a bundle folder, or
                                                   from scratch; the new bundle (<name>-ftN, with train.log)
                                                   is registered beside the project, active with --activate;
                                                   Python with torch: --python, $WAVFUSION_PYTHON or
                                                   /usr/bin/python3`;

/** `wavfusion train`: the studio's fine-tune as a command; progress on stderr, the report on stdout. */
export async function trainCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      'init-from': { type: 'string' },
      'from-scratch': { type: 'boolean', default: false },
      epochs: { type: 'string' },
      python: { type: 'string' },
      threads: { type: 'string' },
      'max-train-items': { type: 'string' },
      seed: { type: 'string' },
      activate: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.project) throw new UsageError('train needs --project FILE');
  if (values['from-scratch'] && values['init-from'])
    throw new UsageError('--init-from and --from-scratch exclude each other');
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} takes a whole number ≥ 1, got ${v}`);
    return n;
  };
  const studio = await Studio.load(values.project, { create: false });
  try {
    const prepared = await studio.training.prepare({
      start: values['from-scratch'] ? 'scratch' : 'active',
      initFrom: values['init-from'],
      epochs: int('epochs', values.epochs),
      python: values.python,
      threads: int('threads', values.threads),
      maxTrainItems: int('max-train-items', values['max-train-items']),
      seed: values.seed === undefined ? undefined : Number(values.seed),
    });
    const off = studio.subscribe((event, payload) => {
      if (event !== 'jobUpdated') return;
      const s = payload as JobStatus;
      const line = s.kind === 'train' && s.state === 'running' ? progressLine(s) : null;
      if (line) process.stderr.write(`${line}\n`);
    });
    const id = studio.jobs.start('train', 'Train model', (ctx) => studio.training.train(prepared, ctx));
    const status = await studio.jobs.wait(id);
    off();
    const report = jobResult(status, 'train');
    if (status.state !== 'succeeded' || !report) {
      process.stderr.write(`wavfusion: training ${status.state}: ${status.error ?? ''}\n`);
      return 1;
    }
    if (values.activate) studio.predictions.setActiveModel(report.trained.model.id);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, values.activate));
    return 0;
  } finally {
    await studio.close();
  }
}

let previous = '';
/** A line per change (the job's events repeat). */
function progressLine(s: JobStatus): string | null {
  const m = s.metrics ?? {};
  const parts = [s.message];
  if (typeof m.loss === 'number') parts.push(`loss ${m.loss.toFixed(4)}`);
  if (typeof m.validationUA === 'number') parts.push(`validation UA ${(m.validationUA * 100).toFixed(1)} %`);
  if (typeof m.trainerEtaSeconds === 'number') parts.push(`eta ${m.trainerEtaSeconds}s`);
  const line = parts.join(', ');
  if (line === previous) return null;
  previous = line;
  return line;
}

const pct = (m: TrainingSplitMetrics | null, k: 'WA' | 'UA' | 'macroF1') => (m ? `${(m[k] * 100).toFixed(1)}` : '—');

export function formatReport(r: TrainingReport, activated: boolean): string {
  const rows = [
    ['', r.trained.model.name, r.current.model?.name ?? '(none)'],
    ...(['validation', 'test'] as const).flatMap((split) =>
      (['WA', 'UA', 'macroF1'] as const).map((k) => [
        `${split} ${k}`,
        pct(r.trained[split], k),
        pct(r.current[split], k),
      ]),
    ),
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return (
    `trained ${r.trained.model.name} (${r.initFrom ? `from ${r.initFrom}` : 'from scratch'}; ` +
    `${r.items.train} train / ${r.items.validation} validation / ${r.items.test} test items)\n` +
    `bundle: ${r.folder}\nlog: ${r.log}\n` +
    r.epochs
      .map((e) => `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, validation UA ${(e.validationUA * 100).toFixed(1)} %\n`)
      .join('') +
    rows.map((row) => row.map((c, i) => c.padEnd(w[i]!)).join('  ') + '\n').join('') +
    r.warnings.map((x) => `warning: ${x}\n`).join('') +
    (activated
      ? `${r.trained.model.name} is now the active model\n`
      : `not active: add --activate, or choose it in the studio\n`) +
    '(metrics measured by the trainer on held-out speakers of this project)\n'
  );
}
