import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import type { ImportReport } from '../../src/shared/contract';
import { startHostProcess } from '../helpers/host-process';
import { DEMO_CORPUS, copyInto, demoClips, runImport, tempDir } from '../helpers/fixtures';

/** The demo corpus cut into 4 segments per recording: 144 utterances. */
function segmentedManifest(): string {
  const lines = ['path,start,end,speaker'];
  for (const speaker of fs.readdirSync(DEMO_CORPUS).sort()) {
    for (const f of fs.readdirSync(path.join(DEMO_CORPUS, speaker)).filter((x) => x.endsWith('.wav'))) {
      for (let i = 0; i < 4; i++)
        lines.push(`${path.join(DEMO_CORPUS, speaker, f)},${i * 0.25},${i * 0.25 + 0.25},${speaker}`);
    }
  }
  const file = path.join(tempDir(), 'segments.csv');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

describe('several processes on one project', () => {
  it('two hosts and an import write side by side: no failed save, no lost label', async () => {
    const file = path.join(tempDir(), 'shared.sqlite');
    const setup = Studio.open(file);
    await runImport(setup, segmentedManifest());
    const ids = setup.store.rows().map((r) => r.id);
    await setup.close();
    expect(ids.length).toBe(144);

    const [a, b] = await Promise.all([startHostProcess(file, 'token-a'), startHostProcess(file, 'token-b')]);
    // A third writer: an import into the same project, from this process, during the labelling.
    const importer = Studio.open(file);
    const corpus = tempDir();
    copyInto(corpus, [...demoClips('spk_a', 9), ...demoClips('spk_b', 9)]);
    try {
      const failures: string[] = [];
      const acknowledged = new Map<number, number>();
      const label = async (host: typeof a, mine: number[]) => {
        let next = 0;
        const worker = async () => {
          while (next < mine.length) {
            const id = mine[next++]!;
            const labelId = (id % 4) + 1;
            const res = await host.api('setLabel', { utteranceId: id, labelId });
            if (res.status === 200) acknowledged.set(id, labelId);
            else failures.push(`${res.status} ${JSON.stringify(res.body)}`);
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      };
      const [, , imported] = await Promise.all([
        label(
          a,
          ids.filter((_, i) => i % 2 === 0),
        ),
        label(
          b,
          ids.filter((_, i) => i % 2 === 1),
        ),
        runImport(importer, corpus),
      ]);
      expect(failures).toEqual([]);
      expect(imported.error).toBeUndefined();
      expect((imported.result as ImportReport).failures).toEqual([]);
      expect(acknowledged.size).toBe(ids.length);
    } finally {
      await importer.close();
      await Promise.all([a.stop(), b.stop()]);
    }

    const reopened = Studio.open(file);
    try {
      for (const id of ids) expect(reopened.annotations.row(id).labelId, `utterance ${id}`).toBe((id % 4) + 1);
      expect(reopened.store.annotations.history()).toHaveLength(ids.length);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
