/**
 * `wavfusion` command line: serve the studio to a browser, import, export. Runs in plain Node.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StudioSession } from '../api/session';
import { Studio } from '../api/studio';
import { integrityCheck } from '../db/open-database';
import { toErrorBody } from '../errors';
import { startProjectHost } from '../host/host-identity';
import { RENDERER_DIR } from '../paths';
import { openDemoProject } from '../api/demo-project';
import { ExportFormat, ImportFormatName, TierRole, jobResult, type JobStatus } from '../../shared/contract';
import { APP_VERSION } from '../version';
import { AGREEMENT_USAGE, agreementCommand } from './agreement-command';
import { EVALUATE_USAGE, evaluateCommand } from './evaluate-command';
import { HANDOUT_USAGE, MERGE_COPY_USAGE, handoutCommand, mergeCopyCommand } from './merge-command';
import { MERGE_USAGE, PREDICT_USAGE, UsageError, mergeCommand, predictCommand } from './predict-command';
import { SEGMENT_USAGE, segmentCommand } from './segment-command';
import { TRAIN_USAGE, trainCommand } from './train-command';

/** Each command's usage lines: `wavfusion <command> --help` prints its own, `wavfusion --help` all. */
const COMMAND_USAGE = {
  serve: `  wavfusion serve [--project FILE] [--port N]     serve the studio on 127.0.0.1 and print its URL
                                                   (no --project: the demo project; no --port: the
                                                   project's port and token of last time where free,
                                                   kept 0600 in the studio home's hosts/ folder)`,
  import: `  wavfusion import --project FILE PATH            import a folder, a .csv/.jsonl manifest or a file
                   [--format ${ImportFormatName.options.join('|')}]
                                                   (else recognised from the content)
                   [--tier NAME=ROLE ...]          TextGrid/EAF tiers (else by name); ROLE:
                                                   ${TierRole.options.join('|')}
                   [--four-class drop|keep]        IEMOCAP: neu→neutral, hap+exc→happy, ang→angry, sad→sad;
                                                   other categories' utterances left out (drop) or kept
                   [--media DIR]                   MELD: the folder of the dia{D}_utt{U} clips
                                                   (a manifest's annotator column: one row per utterance
                                                   and annotator, each that annotator's label)`,
  export: `  wavfusion export --project FILE --out DIR [--format ${ExportFormat.options.join('|')}]
                   [--seed N] [--overwrite] [--include-imported]
                   [--include-predictions]         the active model's prediction as columns (audiofolder,
                                                   csv, jsonl): predicted_label, predicted_prob,
                                                   prob_<label> per model label, model_name, model_version
                   [--keep-imported-split]         keep the split utterances were imported with (MELD,
                                                   audiofolder); the others are split by speaker
                   [--row-per-annotator]           one row per person's annotation (audiofolder, csv,
                                                   jsonl; an audiofolder clip once) with annotator, role
                                                   and the consensus columns; TextGrid, EAF and Label
                                                   Studio always hold each annotator apart`,
  check: `  wavfusion check --project FILE                  full integrity check of a project (read-only)`,
  predict: PREDICT_USAGE,
  'merge-predictions': MERGE_USAGE,
  agreement: AGREEMENT_USAGE,
  evaluate: EVALUATE_USAGE,
  segment: SEGMENT_USAGE,
  train: TRAIN_USAGE,
  handout: HANDOUT_USAGE,
  merge: MERGE_COPY_USAGE,
} as const;

const USAGE = `WavFusion Studio ${APP_VERSION}

Usage:
${Object.values(COMMAND_USAGE).join('\n')}
  wavfusion --help | --version
`;

const isCommand = (name: string | undefined): name is keyof typeof COMMAND_USAGE =>
  name !== undefined && Object.hasOwn(COMMAND_USAGE, name);

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (isCommand(command) && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`WavFusion Studio ${APP_VERSION}\n\nUsage:\n${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'import':
        return await importCommand(rest);
      case 'export':
        return await exportCommand(rest);
      case 'check':
        return checkCommand(rest);
      case 'predict':
        return await predictCommand(rest);
      case 'merge-predictions':
        return mergeCommand(rest);
      case 'agreement':
        return agreementCommand(rest);
      case 'evaluate':
        return await evaluateCommand(rest);
      case 'segment':
        return await segmentCommand(rest);
      case 'train':
        return await trainCommand(rest);
      case 'handout':
        return handoutCommand(rest);
      case 'merge':
        return await mergeCopyCommand(rest);
      case '--version':
        process.stdout.write(`${APP_VERSION}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`wavfusion: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`wavfusion: ${toErrorBody(err).message}\n`);
    return 1;
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { project: { type: 'string' }, port: { type: 'string' } },
    strict: true,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new UsageError(`--port must be 0-65535, got ${values.port}`);
  const studio = values.project ? await Studio.load(values.project) : await openDemoProject();
  // The page may open another project (New/Open/Recent): the host serves the session, not one project.
  const session = new StudioSession(studio, { remember: true });
  // Last resort: a rejection nobody handled is a bug to log, not a reason to drop every open window.
  process.on('unhandledRejection', (reason) => console.error('wavfusion: unhandled rejection:', reason));
  // The port and token this project's host had last time, where it can (a page left open reconnects).
  const { host, notes, reused } = await startProjectHost({
    studio,
    rendererDir: RENDERER_DIR,
    port,
    token: process.env.WAVFUSION_TOKEN || undefined,
  });
  for (const note of notes) process.stderr.write(`wavfusion: ${note}\n`);
  process.stdout.write(
    `WavFusion Studio serving ${studio.store.name} (${studio.store.file})` +
      `${reused ? ', at the same address as last time' : ''}\n${host.url}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await host.close();
  await session.close();
  return 0;
}

async function runJob(studio: Studio, id: string): Promise<JobStatus> {
  const tty = process.stderr.isTTY;
  const off = studio.subscribe((event, payload) => {
    if (event !== 'jobUpdated' || !tty) return;
    const s = payload as JobStatus;
    const pct = s.total ? Math.floor((100 * s.done) / s.total) : 0;
    process.stderr.write(`\r${s.title}: ${s.done}/${s.total} (${pct}%) ${s.message.slice(0, 40).padEnd(40)}`);
  });
  const status = await studio.jobs.wait(id);
  off();
  if (tty) process.stderr.write('\n');
  return status;
}

async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      format: { type: 'string' },
      tier: { type: 'string', multiple: true },
      'four-class': { type: 'string' },
      media: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (!values.project || positionals.length !== 1) throw new UsageError('import needs --project FILE and one PATH');
  const format = values.format === undefined ? undefined : ImportFormatName.safeParse(values.format);
  if (format && !format.success)
    throw new UsageError(`unknown --format ${values.format} (${ImportFormatName.options.join(', ')})`);
  let tiers: Record<string, TierRole> | undefined;
  for (const spec of values.tier ?? []) {
    const at = spec.lastIndexOf('=');
    const role = TierRole.safeParse(spec.slice(at + 1));
    if (at <= 0 || !role.success)
      throw new UsageError(`--tier ${spec}: expected NAME=utterance|transcript|label|speaker`);
    tiers = { ...tiers, [spec.slice(0, at)]: role.data };
  }
  const fourClass = values['four-class'];
  if (fourClass !== undefined && fourClass !== 'drop' && fourClass !== 'keep')
    throw new UsageError(`--four-class ${fourClass}: expected drop or keep`);
  const options = {
    format: format?.data,
    tiers,
    fourClass: fourClass as 'drop' | 'keep' | undefined,
    media: values.media === undefined ? undefined : path.resolve(values.media),
  };
  const studio = Studio.open(values.project);
  try {
    // What will be read (format, counts, label mapping, tier roles) is said before anything is written.
    const preview = await studio.importer.preview(positionals[0]!, options);
    if (preview) process.stderr.write(`${preview.lines.map((l) => `wavfusion: ${l}`).join('\n')}\n`);
    const status = await runJob(
      studio,
      studio.jobs.start('import', 'Import', (ctx) => studio.importer.importPath(positionals[0]!, ctx, options)),
    );
    if (status.state !== 'succeeded') {
      process.stderr.write(`wavfusion: import ${status.state}: ${status.error ?? ''}\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify(status.result, null, 2)}\n`);
    return jobResult(status, 'import')?.failures.length ? 3 : 0;
  } finally {
    await studio.close();
  }
}

/** `PRAGMA integrity_check` on demand (open validates with the quicker quick_check). */
function checkCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { project: { type: 'string' } } });
  if (!values.project) throw new UsageError('check needs --project FILE');
  const studio = Studio.open(values.project, { create: false });
  try {
    const problems = integrityCheck(studio.store.db);
    if (problems.length === 1 && problems[0] === 'ok') {
      process.stdout.write(`${studio.store.file}: ok\n`);
      return 0;
    }
    process.stdout.write(`${studio.store.file}: damaged\n${problems.join('\n')}\n`);
    return 1;
  } finally {
    studio.store.close();
  }
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string', default: 'audiofolder' },
      seed: { type: 'string', default: '13' },
      overwrite: { type: 'boolean', default: false },
      'include-imported': { type: 'boolean', default: false },
      'include-predictions': { type: 'boolean', default: false },
      'keep-imported-split': { type: 'boolean', default: false },
      'row-per-annotator': { type: 'boolean', default: false },
    },
  });
  if (!values.project || !values.out) throw new UsageError('export needs --project FILE and --out DIR');
  const exportFormat = ExportFormat.safeParse(values.format);
  if (!exportFormat.success) throw new UsageError(`unknown --format ${values.format}`);
  const studio = Studio.open(values.project, { create: false });
  try {
    const request = {
      folder: path.resolve(values.out),
      format: exportFormat.data,
      seed: Number(values.seed),
      overwrite: values.overwrite!,
      includeImported: values['include-imported']!,
      includePredictions: values['include-predictions']!,
      keepImportedSplit: values['keep-imported-split']!,
      rowPerAnnotator: values['row-per-annotator']!,
    };
    const status = await runJob(
      studio,
      studio.jobs.start('export', 'Export', (ctx) => studio.exporter.export(request, ctx)),
    );
    if (status.state !== 'succeeded') {
      process.stderr.write(`wavfusion: export ${status.state}: ${status.error ?? ''}\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify(status.result, null, 2)}\n`);
    return 0;
  } finally {
    await studio.close();
  }
}
