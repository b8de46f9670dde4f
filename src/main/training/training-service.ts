import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import {
  TrainingRequest as TrainingRequestSchema,
  type TrainingEpoch,
  type TrainingReport,
  type TrainingRequest,
  type TrainingSplitMetrics,
} from '../../shared/contract';
import { StudioError } from '../errors';
import type { ExportService } from '../export/export-service';
import { SPLITS } from '../export/split';
import { readModelBundle } from '../inference/model-bundle';
import type { PredictionService } from '../inference/prediction-service';
import { resolveModelLocation } from '../inference/prediction-service';
import { JobCancelledError, type JobContext } from '../jobs/job-runner';
import { APP_ROOT } from '../paths';
import type { ProjectStore } from '../project/project-store';

export const TRAINING_DIR = path.join(APP_ROOT, 'training');
export const DEFAULT_PYTHON = '/usr/bin/python3';
export const INSTALL_HINT = 'apt-get install python3-torch python3-torchaudio python3-onnx python3-numpy';
const PARTIAL = '.wavfusion-training-';
const KILL_GRACE_MS = 3000;

/** Python for training: the request's, else $WAVFUSION_PYTHON, else Debian's. */
export function pythonPath(requested?: string): string {
  return requested ?? process.env.WAVFUSION_PYTHON ?? DEFAULT_PYTHON;
}

/**
 * Checks that `python` runs and imports torch (and the packages the trainer needs); the error is one
 * message that says what to install. Nothing else in the studio depends on it.
 */
export async function checkPython(python: string): Promise<void> {
  const result = await new Promise<{ code: number | null; out: string; spawnError?: NodeJS.ErrnoException }>(
    (resolve) => {
      let out = '';
      const child = spawn(python, ['-c', 'import torch, torchaudio, onnx, numpy; print(torch.__version__)'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', (err) => resolve({ code: null, out, spawnError: err }));
      child.on('close', (code) => resolve({ code, out }));
    },
  );
  if (result.spawnError) {
    throw new StudioError(
      'unsupported',
      `Training needs Python 3 with PyTorch, and ${python} cannot be started (${result.spawnError.code ?? result.spawnError.message}). ` +
        `Install it with: ${INSTALL_HINT} (or choose another Python)`,
    );
  }
  if (result.code !== 0) {
    const missing = /No module named '([^']+)'/.exec(result.out)?.[1];
    throw new StudioError(
      'unsupported',
      `Training needs Python 3 with PyTorch, and ${python} ${missing ? `has no ${missing} module` : 'cannot import torch'}. ` +
        `Install it with: ${INSTALL_HINT} (or choose another Python)`,
    );
  }
}

/** What the trainer prints, as progress: `  epoch E/N [k/n] loss L ... eta 1m02s` and the epoch summary. */
export type TrainerLine =
  | { kind: 'batch'; epoch: number; epochs: number; batch: number; batches: number; loss: number; eta: string }
  | ({ kind: 'epoch'; epochs: number } & TrainingEpoch);

const BATCH_LINE = /^\s*epoch (\d+)\/(\d+) \[(\d+)\/(\d+)\] loss ([\d.eE+-]+|nan|inf).*?eta (\S+)\s*$/;
const EPOCH_LINE = /^epoch (\d+)\/(\d+) loss ([\d.eE+-]+|nan|inf).*\| validation WA ([\d.]+) UA ([\d.]+)/;

export function parseTrainerLine(line: string): TrainerLine | null {
  let m = BATCH_LINE.exec(line);
  if (m) {
    return {
      kind: 'batch',
      epoch: Number(m[1]),
      epochs: Number(m[2]),
      batch: Number(m[3]),
      batches: Number(m[4]),
      loss: Number(m[5]),
      eta: m[6]!,
    };
  }
  m = EPOCH_LINE.exec(line);
  if (m) {
    return {
      kind: 'epoch',
      epoch: Number(m[1]),
      epochs: Number(m[2]),
      loss: Number(m[3]),
      validationWA: Number(m[4]),
      validationUA: Number(m[5]),
    };
  }
  return null;
}

/** `1m02s` / `7s` → seconds. */
export function etaSeconds(eta: string): number | null {
  const m = /^(?:(\d+)m)?(\d+)s$/.exec(eta);
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : null;
}

function splitMetrics(raw: unknown): TrainingSplitMetrics | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const WA = num(r.WA);
  const UA = num(r.UA);
  const macroF1 = num(r.macro_F1);
  const weightedF1 = num(r.weighted_F1);
  if (WA === null || UA === null || macroF1 === null || weightedF1 === null) return null;
  return { WA, UA, macroF1, weightedF1, n: num(r.n) ?? 0 };
}

/** The held-out metrics model.json's training block holds (what the trainer measured). */
export function bundleMetrics(folder: string): { validation: TrainingSplitMetrics | null; test: TrainingSplitMetrics | null } {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(folder, 'model.json'), 'utf8')) as {
      training?: { metrics?: Record<string, unknown> };
    };
    const metrics = meta.training?.metrics ?? {};
    return { validation: splitMetrics(metrics.validation), test: splitMetrics(metrics.test) };
  } catch {
    return { validation: null, test: null };
  }
}

/** The next version's name: `<name>-ftN` with N one above any registered (or on disk) for that base. */
export function nextVersionName(activeName: string, taken: readonly string[]): string {
  const base = activeName.replace(/-ft\d+$/, '');
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc}-ft(\\d+)$`);
  const highest = taken.reduce((n, t) => Math.max(n, Number(re.exec(t)?.[1] ?? 0)), 0);
  return `${base}-ft${highest + 1}`;
}

interface Prepared {
  request: ReturnType<typeof TrainingRequestSchema.parse>;
  python: string;
  /** The bundle whose weights are the start (null: from scratch). */
  initFrom: { folder: string; bundleName: string; name: string } | null;
  labels: string[];
}

/**
 * Fine-tuning from the studio: exports the project's human labels (the consensus where there are
 * several; the export's speaker-independent split) into a temporary folder, runs
 * `python -m wavfusion train` on it as a child process in its own process group, reports its
 * epochs, loss, validation UA and ETA as job progress, and on success checks the bundle as an added
 * bundle is checked, moves it into place and registers it (not active). The bundle is written into a
 * hidden sibling and renamed only after it passed: a crash, an error or a cancel leave no folder and
 * no registered model; the project's labels are only read.
 */
export class TrainingService {
  private running = false;

  constructor(
    private readonly store: ProjectStore,
    private readonly exporter: ExportService,
    private readonly predictions: PredictionService,
    /** Where trained bundles go (default: `<project>-models` beside the project file). */
    readonly modelsDir: string = defaultModelsDir(store.file),
  ) {}

  /** Everything that can be refused before a job starts: labels, classes, the model's labels, Python. */
  async prepare(input: TrainingRequest): Promise<Prepared> {
    const request = TrainingRequestSchema.parse(input);
    if (this.running) throw new StudioError('conflict', 'A training is already running: wait for it or cancel it');
    const counts = this.humanLabelCounts();
    const labels = [...counts.keys()];
    if (labels.length === 0)
      throw new StudioError('invalid_request', 'No human labels to train on: label some utterances first');
    if (labels.length < 2)
      throw new StudioError(
        'invalid_request',
        `Training needs at least two classes; every human label is "${labels[0]}" (${counts.get(labels[0]!)} utterances)`,
      );
    let initFrom: Prepared['initFrom'] = null;
    let known: string[] = [];
    if (request.initFrom !== undefined) {
      const bundle = await readModelBundle(request.initFrom);
      initFrom = { folder: bundle.dir, bundleName: bundle.manifest.name, name: bundle.manifest.name };
      known = bundle.manifest.labels;
    } else if (request.start === 'active') {
      const active = this.predictions.listModels().find((m) => m.active);
      if (!active) throw new StudioError('not_found', 'No active model to start from: train from scratch instead');
      initFrom = { folder: resolveModelLocation(active.location), bundleName: active.bundleName, name: active.name };
      known = active.labels;
    }
    const unknown = initFrom ? labels.filter((l) => !known.includes(l)) : [];
    if (initFrom && unknown.length)
      throw new StudioError(
        'invalid_request',
        `The project has labels the model ${initFrom.name} does not know: ${unknown.join(', ')} ` +
          `(it knows ${known.join(', ')}). Train from scratch instead, or relabel those utterances`,
      );
    const python = pythonPath(request.python);
    await checkPython(python);
    return { request, python, initFrom, labels };
  }

  /** The human labels' classes and counts (the final label per utterance, as the export takes it). */
  private humanLabelCounts(): Map<string, number> {
    const names = new Map(this.store.labels.list().map((l) => [l.id, l.name]));
    const counts = new Map<string, number>();
    for (const a of this.store.annotations.exportable(false)) {
      const name = names.get(a.labelId)!;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }

  async train(prepared: Prepared, ctx: JobContext): Promise<TrainingReport> {
    if (this.running) throw new StudioError('conflict', 'A training is already running');
    this.running = true;
    const { request, python, initFrom } = prepared;
    const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'wavfusion-train-'));
    await fsp.mkdir(this.modelsDir, { recursive: true });
    await removeStalePartials(this.modelsDir);
    const models = this.predictions.listModels();
    const active = models.find((m) => m.active);
    const taken = [...models.map((m) => m.bundleName), ...fs.readdirSync(this.modelsDir)];
    const name = nextVersionName(initFrom?.bundleName ?? active?.bundleName ?? 'wavfusion', taken);
    const staging = path.join(this.modelsDir, `${PARTIAL}${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const final = path.join(this.modelsDir, name);
    try {
      ctx.progress(0, 0, 'Exporting the human labels');
      const data = path.join(work, 'data');
      const exported = await this.exporter.export(
        {
          folder: data,
          format: 'audiofolder',
          seed: request.seed,
          split: { train: 0.7, validation: 0.15, test: 0.15 },
        },
        { signal: ctx.signal, progress: (d, t) => ctx.progress(0, 0, `Exporting the human labels ${d}/${t}`) },
      );
      const dropped = useConsensusLabels(data);
      const warnings = [...exported.warnings];
      if (dropped) warnings.push(`${dropped} utterances without a consensus (still disputed) were left out`);
      await fsp.mkdir(staging);
      const args = [
        '-m',
        'wavfusion',
        'train',
        '--data',
        data,
        '--config',
        'tiny',
        '--out',
        staging,
        '--name',
        name,
        '--epochs',
        String(request.epochs),
        '--threads',
        String(request.threads ?? Math.max(1, os.availableParallelism() - 1)),
        '--seed',
        String(request.seed),
      ];
      if (initFrom) args.push('--init-from', initFrom.folder);
      if (request.maxTrainItems !== undefined) args.push('--max-train-items', String(request.maxTrainItems));
      const logFile = path.join(staging, 'train.log');
      const epochs = await runTrainer(python, args, logFile, ctx, request.epochs);
      ctx.progress(1, 1, 'Checking the new bundle');
      await this.predictions.validateBundle(staging).catch((err: unknown) => {
        throw new StudioError('internal', `The trainer wrote a bundle that does not load: ${(err as Error).message}`);
      });
      const items = exportedCounts(exported.bySplit);
      await fsp.rename(staging, final);
      const model = await this.predictions.registerModel(final);
      return {
        trained: { model, ...bundleMetrics(final) },
        current: {
          model: active ?? null,
          ...(active
            ? bundleMetrics(resolveModelLocation(active.location))
            : { validation: null, test: null }),
        },
        folder: final,
        log: path.join(final, 'train.log'),
        initFrom: initFrom?.folder ?? null,
        epochs,
        items,
        warnings,
      };
    } catch (err) {
      await fsp.rm(staging, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
        throw new StudioError('internal', 'The disk is full: training stopped; no model was added');
      throw err;
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
      this.running = false;
    }
  }
}

export function defaultModelsDir(projectFile: string): string {
  return path.join(path.dirname(path.resolve(projectFile)), `${path.basename(projectFile).replace(/\.[^.]+$/, '')}-models`);
}

function exportedCounts(bySplit: Record<string, number>) {
  return { train: bySplit.train ?? 0, validation: bySplit.validation ?? 0, test: bySplit.test ?? 0 };
}

/** Several annotators: the consensus label is the training label; utterances still disputed are left out. */
function useConsensusLabels(folder: string): number {
  let dropped = 0;
  for (const split of SPLITS) {
    const file = path.join(folder, split, 'metadata.csv');
    if (!fs.existsSync(file)) continue;
    const rows = parse(fs.readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
    if (rows.length === 0) continue;
    const kept = rows.filter((r) => {
      const several = Number(r.num_annotators || 0) > 1;
      if (several && !r.consensus_label) {
        dropped++;
        return false;
      }
      if (r.consensus_label) r.label = r.consensus_label;
      return true;
    });
    fs.writeFileSync(file, stringify(kept, { header: true, columns: Object.keys(rows[0]!) }));
  }
  return dropped;
}

async function removeStalePartials(dir: string): Promise<void> {
  for (const entry of await fsp.readdir(dir)) {
    if (!entry.startsWith(PARTIAL)) continue;
    const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(entry)?.[1]);
    if (pid !== process.pid && !isAlive(pid)) await fsp.rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the trainer in its own process group (cwd training/), writes its output to `logFile`, turns its
 * lines into progress, and kills the whole group on cancel. Resolves with the epochs it reported.
 */
function runTrainer(
  python: string,
  args: string[],
  logFile: string,
  ctx: JobContext,
  plannedEpochs: number,
): Promise<TrainingEpoch[]> {
  return new Promise((resolve, reject) => {
    const log = fs.createWriteStream(logFile);
    let logError: NodeJS.ErrnoException | null = null;
    log.on('error', (err) => (logError = err));
    log.write(`$ ${python} ${args.join(' ')}\n`);
    const child = spawn(python, args, {
      cwd: TRAINING_DIR,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    const epochs: TrainingEpoch[] = [];
    const tail: string[] = [];
    let last = { eta: '', batches: 1 };
    let killTimer: NodeJS.Timeout | null = null;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const p = parseTrainerLine(line);
      if (!p) return;
      if (p.kind === 'batch') {
        last = { eta: p.eta, batches: p.batches };
        const metrics = progressMetrics(epochs, p.epoch, p.epochs, p.loss, etaSeconds(p.eta));
        ctx.progress((p.epoch - 1) * p.batches + p.batch, p.epochs * p.batches, `Epoch ${p.epoch}/${p.epochs}`, metrics);
      } else {
        epochs.push({ epoch: p.epoch, loss: p.loss, validationWA: p.validationWA, validationUA: p.validationUA });
        const metrics = progressMetrics(epochs, p.epoch, p.epochs, p.loss, etaSeconds(last.eta));
        ctx.progress(p.epoch * last.batches, p.epochs * last.batches, `Epoch ${p.epoch}/${p.epochs}: validation UA ${(p.validationUA * 100).toFixed(1)} %`, metrics);
      }
    };
    const lines = (stream: NodeJS.ReadableStream) => {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        log.write(d);
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i).replace(/\r$/, ''));
          buf = buf.slice(i + 1);
        }
      });
      stream.on('end', () => buf && onLine(buf));
    };
    lines(child.stdout);
    lines(child.stderr);
    ctx.progress(0, plannedEpochs, 'Starting the trainer');
    let spawnError: NodeJS.ErrnoException | null = null;
    child.on('error', (err) => (spawnError = err));
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // the group may hold children the trainer started (data loader workers)
      killGroup('SIGKILL');
      log.end(() => {
        if (ctx.signal.aborted) return reject(new JobCancelledError());
        if (spawnError) return reject(new StudioError('unsupported', `Cannot start ${python}: ${spawnError.message}`));
        const text = tail.join('\n');
        if (logError?.code === 'ENOSPC' || /No space left on device/.test(text))
          return reject(new StudioError('internal', 'The disk is full: training stopped; no model was added'));
        if (logError) return reject(logError);
        if (code !== 0) {
          const error = [...tail].reverse().find((l) => /^(error: |\w*Error: )/.test(l)) ?? tail.at(-1) ?? '';
          return reject(
            new StudioError(
              'internal',
              `The trainer stopped with ${code === null ? `signal ${signal}` : `exit code ${code}`}: ${error.replace(/^error: /, '')}`,
            ),
          );
        }
        resolve(epochs);
      });
    });
  });
}

function progressMetrics(
  epochs: readonly TrainingEpoch[],
  epoch: number,
  total: number,
  loss: number,
  eta: number | null,
): Record<string, number | string> {
  const lastEpoch = epochs.at(-1);
  const m: Record<string, number | string> = { epoch, epochs: total, loss };
  if (lastEpoch) {
    m.validationUA = lastEpoch.validationUA;
    m.validationWA = lastEpoch.validationWA;
  }
  if (eta !== null) m.trainerEtaSeconds = eta;
  // the curve so far, for a live plot: [[epoch, loss, validation UA], ...]
  m.curve = JSON.stringify(epochs.map((e) => [e.epoch, e.loss, e.validationUA]));
  return m;
}
