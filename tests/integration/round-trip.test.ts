import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { InferenceEngine } from '../../src/main/inference/engine';
import type { ExportSummary } from '../../src/shared/contract';
import { DEMO_CORPUS, REPO_ROOT, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

let studio: Studio | null = null;
afterAll(async () => {
  await studio?.close();
});

describe('studio → training → studio', () => {
  it('a corpus exported by the studio trains with `python -m wavfusion train`, and the bundle loads and predicts', async () => {
    ({ studio } = openTempStudio());
    await runImport(studio, DEMO_CORPUS);
    const labels = studio.store.labels.list();
    const style = ['neutral', 'neutral', 'happy', 'happy', 'angry', 'angry', 'sad', 'sad', 'neutral'];
    studio.store
      .rows()
      .forEach((r, i) => studio!.annotations.setLabel(r.id, labels.find((l) => l.name === style[i % 9])!.id));
    const exportDir = path.join(tempDir(), 'export');
    const job = studio.jobs.start('export', 'export', (ctx) =>
      studio!.exporter.export({ folder: exportDir, seed: 3 }, ctx),
    );
    const exported = await studio.jobs.wait(job);
    expect((exported.result as ExportSummary).rows).toBe(36);

    const bundle = path.join(tempDir(), 'bundle');
    const train = spawnSync(
      '/usr/bin/python3',
      [
        '-m',
        'wavfusion',
        'train',
        '--data',
        exportDir,
        '--config',
        'tiny',
        '--out',
        bundle,
        '--epochs',
        '1',
        '--batch-size',
        '8',
        '--threads',
        '2',
        '--vocab-size',
        '300',
      ],
      { cwd: path.join(REPO_ROOT, 'training'), encoding: 'utf8', timeout: 600_000 },
    );
    expect(train.status, `${train.stdout}\n${train.stderr}`).toBe(0);

    const engine = await InferenceEngine.load(bundle, { device: 'cpu' });
    try {
      expect([...engine.labels].sort()).toEqual(['angry', 'happy', 'neutral', 'sad']);
      const file = path.join(DEMO_CORPUS, 'spk_a', 'spk_a_03.wav');
      for await (const [r] of engine.predict([
        { key: 'x', path: file, start: null, end: null, text: 'This is wonderful news' },
      ])) {
        expect(r!.ok).toBe(true);
      }
    } finally {
      await engine.close();
    }
  });
});
