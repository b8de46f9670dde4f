import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import {
  DEFAULT_PYTHON,
  INSTALL_HINT,
  parseTrainerLine,
  nextVersionName,
} from '../../src/main/training/training-service';
import { jobResult, operations, type ModelInfo, type OperationName } from '../../src/shared/contract';
import { DEMO_CORPUS, DEMO_MODEL, REPO_ROOT, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/**
 * Fine-tuning from the studio on a real project (the demo corpus, labelled through the API) with the
 * real trainer (Debian's Python with torch): 1 epoch on 8 training clips. Fake "pythons" (shell
 * scripts) stand in for a trainer that fails and for a Python without torch.
 */
const hasTorch = (() => {
  try {
    execFileSync(DEFAULT_PYTHON, ['-c', 'import torch, torchaudio, onnx, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const QUICK = { epochs: 1, maxTrainItems: 8, threads: 1 };

let studio: Studio;
let handlers: ReturnType<typeof createHandlers>;
let dir: string;

async function call<T>(name: OperationName, input: object = {}): Promise<T> {
  const out = await invokeOperation(handlers, name, input);
  return operations[name].output.parse(out) as T;
}

function modelsDirEntries(): string[] {
  const d = studio.training.modelsDir;
  return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
}

function annotationsSnapshot() {
  return studio.store.db.prepare('SELECT * FROM annotations ORDER BY id').all();
}

/** A stand-in for python: passes the torch check, then runs `body` as the trainer. */
function fakePython(body: string, check = 'exit 0'): string {
  const file = path.join(tempDir('wavfusion-fakepy-'), 'python3');
  fs.writeFileSync(file, `#!/bin/sh\nif [ "$1" = "-c" ]; then ${check}; fi\n${body}\n`, { mode: 0o755 });
  return file;
}

/** Processes whose command line mentions `text` (this user's, from /proc). */
function processesWith(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  ({ studio, dir } = openTempStudio());
  handlers = createHandlers(studio);
  await runImport(studio, DEMO_CORPUS);
  await call('addModel', { path: DEMO_MODEL });
  const labels = studio.store.labels.list().filter((l) => ['neutral', 'happy', 'angry', 'sad'].includes(l.name));
  for (const [i, row] of studio.store.rows().entries())
    await call('setLabel', { utteranceId: row.id, labelId: labels[i % labels.length]!.id });
});
afterAll(async () => {
  await studio.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('trainer output', () => {
  it('parses batch and epoch lines', () => {
    expect(parseTrainerLine('  epoch 2/3 [4/8] loss 1.2345 (ce 1.0, mar 0.2) 1.61 batch/s, eta 1m02s')).toEqual({
      kind: 'batch',
      epoch: 2,
      epochs: 3,
      batch: 4,
      batches: 8,
      loss: 1.2345,
      eta: '1m02s',
    });
    expect(
      parseTrainerLine(
        'epoch 1/1 loss 2.8503 ce 2.5 mar 0.3 | validation WA 0.3333 UA 0.2917 macro-F1 0.3 gate 0.6 (1s)',
      ),
    ).toEqual({ kind: 'epoch', epoch: 1, epochs: 1, loss: 2.8503, validationWA: 0.3333, validationUA: 0.2917 });
    expect(parseTrainerLine('data: /tmp/x (studio-export)')).toBeNull();
    expect(nextVersionName('wavfusion-demo', ['wavfusion-demo'])).toBe('wavfusion-demo-ft1');
    expect(nextVersionName('wavfusion-demo-ft1', ['wavfusion-demo-ft1', 'wavfusion-demo-ft2'])).toBe(
      'wavfusion-demo-ft3',
    );
  });
});

describe('bad input', () => {
  it('says what to install when Python is missing or has no torch, and starts nothing', async () => {
    const before = annotationsSnapshot();
    await expect(call('startTraining', { ...QUICK, python: '/nonexistent/python3' })).rejects.toThrow(INSTALL_HINT);
    const noTorch = fakePython('exit 1', `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`);
    await expect(call('startTraining', { ...QUICK, python: noTorch })).rejects.toThrow(/has no torch module/);
    expect(studio.jobs.list().filter((j) => j.kind === 'train')).toHaveLength(0);
    expect(annotationsSnapshot()).toEqual(before);
    // the rest of the studio keeps working
    expect(await call<ModelInfo[]>('listModels')).toHaveLength(1);
  });

  it('reports a trainer that exits with an error; no model, no folder, project unchanged', async () => {
    const before = annotationsSnapshot();
    const python = fakePython('echo "data: loading" ; echo "error: boom: the data is bad" >&2; exit 2');
    const { jobId } = await call<{ jobId: string }>('startTraining', { ...QUICK, python });
    const status = await studio.jobs.wait(jobId);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/exit code 2: boom: the data is bad/);
    expect(await call<ModelInfo[]>('listModels')).toHaveLength(1);
    expect(modelsDirEntries()).toEqual([]);
    expect(annotationsSnapshot()).toEqual(before);
  });

  it('refuses labels the active model does not know, and a project with no labels or one class', async () => {
    const other = openTempStudio();
    const h = createHandlers(other.studio);
    try {
      await runImport(other.studio, DEMO_CORPUS);
      await invokeOperation(h, 'addModel', { path: DEMO_MODEL });
      await expect(invokeOperation(h, 'startTraining', QUICK)).rejects.toThrow(/No human labels/);
      const rows = other.studio.store.rows();
      const happy = other.studio.store.labels.list().find((l) => l.name === 'happy')!;
      await invokeOperation(h, 'setLabel', { utteranceId: rows[0]!.id, labelId: happy.id });
      await expect(invokeOperation(h, 'startTraining', QUICK)).rejects.toThrow(/at least two classes/);
      other.studio.labels.save({ name: 'bored', color: '#888888', hotkey: null });
      const bored = other.studio.store.labels.list().find((l) => l.name === 'bored')!;
      await invokeOperation(h, 'setLabel', { utteranceId: rows[1]!.id, labelId: bored.id });
      await expect(invokeOperation(h, 'startTraining', QUICK)).rejects.toThrow(/does not know: bored/);
    } finally {
      await other.studio.close();
      fs.rmSync(other.dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasTorch)('fine-tuning with the real trainer', () => {
  it('cancel kills the trainer: nothing registered, no folder', async () => {
    const { jobId } = await call<{ jobId: string }>('startTraining', { ...QUICK, epochs: 50, maxTrainItems: 24 });
    // wait until the trainer runs
    for (let i = 0; i < 600 && processesWith('wavfusion-training-').length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const pids = processesWith('wavfusion-training-');
    expect(pids.length).toBeGreaterThan(0);
    await call('cancelJob', { jobId });
    const status = await studio.jobs.wait(jobId);
    expect(status.state).toBe('cancelled');
    expect(processesWith('wavfusion-training-')).toEqual([]);
    expect(await call<ModelInfo[]>('listModels')).toHaveLength(1);
    expect(modelsDirEntries()).toEqual([]);
  }, 120_000);

  it('fine-tunes the active model: a new version registered, not active, with its report and log', async () => {
    const before = annotationsSnapshot();
    const updates: string[] = [];
    const off = studio.subscribe((event, payload) => {
      const s = payload as { kind?: string; message?: string };
      if (event === 'jobUpdated' && s.kind === 'train' && s.message) updates.push(s.message);
    });
    const { jobId } = await call<{ jobId: string }>('startTraining', QUICK);
    const status = await studio.jobs.wait(jobId);
    off();
    expect(status.error).toBeUndefined();
    expect(status.state).toBe('succeeded');
    const report = jobResult(status, 'train')!;
    expect(report.trained.model).toMatchObject({ name: 'wavfusion-demo-ft1', active: false });
    expect(report.current.model).toMatchObject({ bundleName: 'wavfusion-demo', active: true });
    expect(report.epochs).toHaveLength(1);
    expect(report.trained.validation!.UA).toBeGreaterThanOrEqual(0);
    expect(report.current.test).not.toBeNull();
    expect(report.initFrom).toBe(path.resolve(DEMO_MODEL));
    expect(updates.some((m) => /^Epoch 1\/1/.test(m))).toBe(true);
    expect(modelsDirEntries()).toEqual(['wavfusion-demo-ft1']);
    for (const f of ['model.json', 'model.onnx', 'tokenizer.json', 'model.pt', 'train.log'])
      expect(fs.existsSync(path.join(report.folder, f))).toBe(true);
    expect(fs.readFileSync(report.log, 'utf8')).toMatch(/initialised from/);
    const meta = JSON.parse(fs.readFileSync(path.join(report.folder, 'model.json'), 'utf8'));
    expect(meta.training.recipe.init_from.name).toBe('wavfusion-demo');
    const models = await call<ModelInfo[]>('listModels');
    expect(models.find((m) => m.active)!.bundleName).toBe('wavfusion-demo');
    // activated only on request
    const after = await call<ModelInfo[]>('setActiveModel', { id: report.trained.model.id });
    expect(after.find((m) => m.active)!.name).toBe('wavfusion-demo-ft1');
    expect(annotationsSnapshot()).toEqual(before);
  }, 300_000);
});

// A small file system of its own for the models folder: tmpfs in a private mount namespace (no root
// needed where user namespaces are enabled), too small for the bundle the trainer writes.
const canMount =
  process.platform === 'linux' && spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs none /mnt']).status === 0;

describe.skipIf(!hasTorch || !canMount)('a disk that fills during training', () => {
  it('ends with "The disk is full", no model and no folder added, the project unchanged', () => {
    const project = tempDir('wavfusion-fulldisk-');
    const script =
      `mkdir -p "$1/project-models" && mount -t tmpfs -o size=1024k none "$1/project-models" && ` +
      `exec "${process.execPath}" --import tsx tests/helpers/train-on-small-disk.ts "$1"`;
    const run = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', project], { cwd: REPO_ROOT, encoding: 'utf8' });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(last, run.stderr).toMatch(/^\{/);
    const result = JSON.parse(last) as {
      modelsDir: string;
      state: string;
      error: string | null;
      entries: string[];
      models: string[];
      annotationsUnchanged: boolean;
      updates: string[];
    };
    // the disk filled while the trainer ran (it trained its epoch, then could not write the bundle)
    expect(
      result.updates.some((m) => /^Epoch 1\/1/.test(m)),
      result.updates.join('\n'),
    ).toBe(true);
    expect(result.modelsDir).toBe(path.join(project, 'project-models'));
    expect(result.state).toBe('failed');
    expect(result.error).toBe('The disk is full: training stopped; no model was added');
    expect(result.entries).toEqual([]);
    expect(result.models).toEqual(['wavfusion-demo']);
    expect(result.annotationsUnchanged).toBe(true);
    fs.rmSync(project, { recursive: true, force: true });
  }, 240_000);
});
