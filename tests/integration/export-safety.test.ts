import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import type { ExportRequest, JobStatus } from '../../src/shared/contract';
import { DEMO_CORPUS, REPO_ROOT, runImport, tempDir } from '../helpers/fixtures';

let studio: Studio;
let project: string;

async function runExport(request: ExportRequest): Promise<JobStatus> {
  const id = studio.jobs.start('export', 'test export', (ctx) => studio.exporter.export(request, ctx));
  return studio.jobs.wait(id);
}

/** Every file under a folder with its bytes. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function expectSameTree(dir: string, before: Map<string, Buffer>) {
  const after = tree(dir);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [k, v] of before) expect(after.get(k)!.equals(v), k).toBe(true);
}

beforeAll(async () => {
  project = path.join(tempDir(), 'project.sqlite');
  studio = Studio.open(project);
  await runImport(studio, DEMO_CORPUS);
  const labels = studio.store.labels.list();
  studio.store.rows().forEach((r, i) => studio.annotations.setLabel(r.id, labels[i % 4]!.id));
});
afterAll(async () => {
  await studio.close();
});

describe('export overwrite', () => {
  it("keeps a user's own folder that has an export entry's name: refused, nothing changed", async () => {
    const folder = path.join(tempDir(), 'mine');
    fs.mkdirSync(path.join(folder, 'test'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'test', 'my-recording.wav'), 'my own take');
    fs.writeFileSync(path.join(folder, 'test', 'notes.txt'), 'keep me');
    fs.writeFileSync(path.join(folder, 'label_map.json'), '{"mine": true}');
    const before = tree(folder);
    const status = await runExport({ folder, overwrite: true });
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/test, label_map\.json were not written by a WavFusion export.*Nothing was changed/);
    expectSameTree(folder, before);
    expect(fs.readdirSync(path.dirname(folder))).toEqual(['mine']);
  });

  it('replaces an earlier export, keeps files beside it, and refuses when a split folder holds foreign files', async () => {
    const folder = path.join(tempDir(), 'out');
    expect((await runExport({ folder, seed: 1 })).state).toBe('succeeded');
    fs.writeFileSync(path.join(folder, 'README.txt'), 'my notes');
    const again = await runExport({ folder, seed: 2, overwrite: true });
    expect(again.state).toBe('succeeded');
    expect(fs.readFileSync(path.join(folder, 'README.txt'), 'utf8')).toBe('my notes');
    expect(JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8')).split.seed).toBe(2);

    fs.writeFileSync(path.join(folder, 'train', 'extra-take.wav'), 'mine');
    const before = tree(folder);
    const refused = await runExport({ folder, seed: 3, overwrite: true });
    expect(refused.error).toMatch(/train\/extra-take\.wav was not written by an export/);
    expectSameTree(folder, before);

    // From a CSV export to an audiofolder one: the earlier dataset.csv goes, nothing else.
    fs.rmSync(path.join(folder, 'train', 'extra-take.wav'));
    expect((await runExport({ folder, format: 'csv', overwrite: true })).state).toBe('succeeded');
    expect(fs.readdirSync(folder).sort()).toEqual(['README.txt', 'dataset.csv', 'label_map.json', 'provenance.json']);
    expect(fs.readdirSync(path.dirname(folder))).toEqual(['out']);
  });

  it('a cancelled export leaves nothing behind', async () => {
    const folder = path.join(tempDir(), 'cancelled');
    const id = studio.jobs.start('export', 'x', (ctx) => studio.exporter.export({ folder }, ctx));
    studio.jobs.cancel(id);
    expect((await studio.jobs.wait(id)).state).toBe('cancelled');
    expect(fs.readdirSync(path.dirname(folder))).toEqual([]);
  });
});

describe('export under faults', () => {
  it('kill -9 during an export leaves the target as it was; the next export cleans up', async () => {
    const parent = tempDir();
    const folder = path.join(parent, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/helpers/serve-entry.ts', 'export', '--project', project, '--out', folder],
      { cwd: REPO_ROOT, stdio: 'ignore' },
    );
    // Kill it once a few clips are on disk.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const partial = fs.readdirSync(parent).find((n) => n.includes('wavfusion-partial'));
        const clips = partial
          ? ['train', 'validation', 'test'].flatMap((s) => {
              const d = path.join(parent, partial, s);
              return fs.existsSync(d) ? fs.readdirSync(d) : [];
            })
          : [];
        if (clips.length >= 3) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
      child.once('exit', () => {
        clearInterval(timer);
        reject(new Error('export finished before it could be killed'));
      });
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(null) : child.once('exit', r)));
    expect(fs.existsSync(folder)).toBe(false);
    expect(fs.readdirSync(parent)).toEqual([expect.stringMatching(/^\.killed\.wavfusion-partial-/)]);

    expect((await runExport({ folder })).state).toBe('succeeded');
    expect(fs.readdirSync(parent)).toEqual(['killed']);
    expect(fs.existsSync(path.join(folder, 'provenance.json'))).toBe(true);
  }, 60_000);

  // A small file system of its own: tmpfs in a private mount namespace (no root needed where user
  // namespaces are enabled).
  const canMount =
    process.platform === 'linux' && spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs none /mnt']).status === 0;

  const onSmallDisk = (format: string, sizeKb: number, leaveFree: number) => {
    const mount = tempDir();
    const script =
      `mount -t tmpfs -o size=${sizeKb}k none "$1" && ` +
      `exec "${process.execPath}" --import tsx tests/helpers/export-on-small-disk.ts "$2" "$1" "$3" "$4"`;
    const run = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', mount, project, format, String(leaveFree)], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(last) as { code: number; stderr: string; listing: Record<string, number> };
  };

  it.skipIf(!canMount)(
    'ENOSPC during an audiofolder export: exact message, no torn WAV, nothing left',
    () => {
      const result = onSmallDisk('audiofolder', 256, 0);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /export failed: The disk is full: export to .*\/export stopped; nothing was written there \(the folder is as it was\)/,
      );
      expect(result.listing).toEqual({});
    },
    60_000,
  );

  it.skipIf(!canMount)(
    'ENOSPC during a CSV export: no 0-byte dataset.csv',
    () => {
      const result = onSmallDisk('csv', 256, 1024);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/The disk is full: export to .* stopped; nothing was written there/);
      expect(result.listing).toEqual({});
    },
    60_000,
  );
});
