import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgreementService } from '../../src/main/agreement/agreement-service';
import type { Studio } from '../../src/main/api/studio';
import { main } from '../../src/main/cli/main';
import type { AgreementReport, ImportReport } from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A manifest with an annotator column: 4 clips × 3 annotators (one row missing, one row bad). */
async function manifestProject() {
  const { studio, file } = openTempStudio();
  open.push(studio);
  const dir = tempDir();
  const clips = copyInto(dir, demoClips('spk_a', 4)).map((c) => path.basename(c));
  const votes: Record<string, string[]> = {
    ann: ['happy', 'sad', 'angry', 'neutral'],
    ben: ['happy', 'sad', 'happy', 'neutral'],
    cat: ['happy', 'sad', 'angry', ''],
  };
  const lines = ['path,label,annotator,speaker'];
  for (const [who, labels] of Object.entries(votes))
    labels.forEach((l, i) => {
      if (l) lines.push(`${clips[i]},${l},${who},spk_a`);
    });
  lines.push(`${clips[0]},happy,"bad\u0007name",spk_a`);
  const manifest = path.join(dir, 'votes.csv');
  fs.writeFileSync(manifest, `${lines.join('\n')}\n`);
  const report = (await runImport(studio, manifest)).result as ImportReport;
  return { studio, file, report };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out: () => out.join(''), err: () => err.join('') };
}

describe('manifests with an annotator column, and wavfusion agreement', () => {
  it("imports one row per utterance and annotator as that annotator's annotation, on the roster", async () => {
    const { studio, report } = await manifestProject();
    expect(report.utterancesAdded).toBe(4);
    expect(report.annotationsAdded).toBe(11);
    expect(report.failures).toEqual([
      { path: 'votes.csv:13', reason: expect.stringMatching(/annotator: an annotator name/) },
    ]);
    const service = new AgreementService(studio.store);
    expect(service.listAnnotators().map((r) => [r.name, r.role, r.annotations, r.onRoster])).toEqual([
      ['ann', 'annotator', 4, true],
      ['ben', 'annotator', 4, true],
      ['cat', 'annotator', 3, true],
    ]);
    const imported = studio.store.db.prepare(`SELECT COUNT(*) AS n FROM annotations WHERE origin = 'import'`).get() as {
      n: number;
    };
    expect(imported.n).toBe(0);
    // importing the same manifest again adds no utterance and duplicates no annotation
    await runImport(studio, report.source);
    expect(studio.store.db.prepare('SELECT COUNT(*) AS n FROM annotations').get()).toEqual({ n: 11 });
  });

  it('wavfusion agreement --json prints the report; without --json, a text report', async () => {
    const { studio, file } = await manifestProject();
    await studio.close();
    open.length = 0;
    let io = capture();
    expect(await main(['agreement', '--project', file, '--json', '--bootstrap', '100'])).toBe(0);
    const report = JSON.parse(io.out()) as AgreementReport;
    expect(report.annotators).toEqual(['ann', 'ben', 'cat']);
    expect(report.pairableItems).toBe(4);
    expect(report.categorical.pairwise.map((p) => [p.a, p.b, p.n])).toEqual([
      ['ann', 'ben', 4],
      ['ann', 'cat', 3],
      ['ben', 'cat', 3],
    ]);
    expect(report.categorical.pairwise[1]!.kappa).toBeCloseTo(1, 10);
    expect(report.bootstrap).toEqual({ replicates: 100, seed: 13 });
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['agreement', '--project', file, '--bootstrap', '0'])).toBe(0);
    expect(io.out()).toContain("Krippendorff's α (nominal)");
    expect(io.out()).toMatch(/ann – cat: 1\.000 {2}\(n=3\)/);
    expect(io.out()).toContain('Consensus: 4 agreed, 0 disagreed, 0 adjudicated, 0 pending');
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['agreement'])).toBe(2);
    expect(io.err()).toContain('agreement needs --project FILE');
  });
});
