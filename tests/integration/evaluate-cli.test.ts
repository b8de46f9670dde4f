import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { main } from '../../src/main/cli/main';
import type { ModelComparison, ModelReport } from '../../src/shared/contract';
import { DEMO_CORPUS, DEMO_MODEL, openTempStudio, runImport } from '../helpers/fixtures';

/** `wavfusion evaluate` on a real project: the demo corpus, predicted by the demo model, 24 labels. */
let file: string;
let expected: ModelReport;

beforeAll(async () => {
  let studio: Studio;
  ({ studio, file } = openTempStudio());
  await runImport(studio, DEMO_CORPUS);
  await studio.predictions.addModel(DEMO_MODEL);
  const job = await studio.jobs.wait(
    studio.jobs.start('predict', 'run', (ctx) => studio.predictions.run({ device: 'cpu', recompute: false }, ctx)),
  );
  expect(job.state).toBe('succeeded');
  const labels = studio.store.labels.list();
  for (const [i, row] of studio.store.rows().slice(0, 24).entries())
    studio.annotations.setLabel(row.id, i % 3 === 0 ? labels[i % labels.length]!.id : row.prediction!.labelId!);
  expected = studio.evaluation.report();
  await studio.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out: () => out.join(''), err: () => err.join('') };
}

describe('wavfusion evaluate', () => {
  it('--json prints the report the core computes (and a comparison with --compare)', async () => {
    const io = capture();
    expect(await main(['evaluate', '--project', file, '--json', '--compare', 'wavfusion-demo'])).toBe(0);
    const { report, comparison } = JSON.parse(io.out()) as { report: ModelReport; comparison: ModelComparison };
    expect(report).toEqual(expected);
    expect(report.status).toBe('ok');
    expect(comparison).toMatchObject({ items: 24, deltas: { wa: 0, ua: 0 }, aRightBWrong: { count: 0 } });
  });

  it('prints a text report: metrics, per class, confusion, calibration, breakdowns', async () => {
    const io = capture();
    expect(await main(['evaluate', '--project', file, '--model', DEMO_MODEL])).toBe(0);
    const out = io.out();
    expect(out).toContain(`WA ${(100 * expected.metrics!.wa!).toFixed(1)} %`);
    expect(out).toContain("Cohen's κ model vs human");
    expect(out).toContain('Confusion (rows: human, columns: model)');
    expect(out).toMatch(/Calibration: ECE \d\.\d{3}/);
    expect(out).toMatch(/spk_a: 9 item\(s\): fewer than 20, no metrics/);
  });

  it('--filter narrows the report, and says so instead of numbers below 20 items', async () => {
    const io = capture();
    expect(await main(['evaluate', '--project', file, '--filter', 'speaker=spk_b', '--json'])).toBe(0);
    const { report } = JSON.parse(io.out()) as { report: ModelReport };
    expect(report).toMatchObject({ status: 'too_few', items: 9, metrics: null });
    vi.restoreAllMocks();
    const text = capture();
    expect(await main(['evaluate', '--project', file, '--filter', 'label=happy'])).toBe(0);
    expect(text.out()).toMatch(/! Only \d+ labelled utterance\(s\)/);
  });

  it('names what is wrong: an unknown model, filter or option', async () => {
    let io = capture();
    expect(await main(['evaluate', '--project', file, '--model', 'nope'])).toBe(1);
    expect(io.err()).toContain('No model "nope" in this project (models: wavfusion-demo@');
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['evaluate', '--project', file, '--filter', 'colour=red'])).toBe(2);
    expect(io.err()).toContain('KEY one of speaker, label, search, max-confidence, consensus');
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['evaluate'])).toBe(2);
    expect(io.err()).toContain('evaluate needs --project FILE');
  });
});
