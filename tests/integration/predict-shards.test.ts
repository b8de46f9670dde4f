import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CORPUS, DEMO_MODEL, REPO_ROOT, tempDir } from '../helpers/fixtures';

/** The CLI from source; `predict` and `merge-predictions` as a cluster array task would run them. */
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'tests/helpers/serve-entry.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });

let bundle: string;
let corpus: string;

beforeAll(() => {
  // a bundle with an int8 variant, made by the training package's quantizer (its accuracy guard on the parity clips)
  bundle = tempDir('shard-bundle-');
  for (const f of fs.readdirSync(DEMO_MODEL)) fs.copyFileSync(path.join(DEMO_MODEL, f), path.join(bundle, f));
  const q = spawnSync(
    '/usr/bin/python3',
    ['-m', 'wavfusion', 'quantize', '--model', bundle, '--data', path.join(REPO_ROOT, 'tests', 'fixtures', 'parity')],
    { cwd: path.join(REPO_ROOT, 'training'), encoding: 'utf8' },
  );
  expect(q.status, q.stderr).toBe(0);
  corpus = tempDir('shard-corpus-');
  for (const spk of fs.readdirSync(DEMO_CORPUS).sort().slice(0, 3)) {
    for (const f of fs
      .readdirSync(path.join(DEMO_CORPUS, spk))
      .filter((n) => n.endsWith('.wav'))
      .slice(0, 8))
      fs.copyFileSync(path.join(DEMO_CORPUS, spk, f), path.join(corpus, `${spk}-${f}`));
  }
  fs.writeFileSync(path.join(corpus, 'broken.wav'), 'not audio');
}, 120_000);

const sortedLines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).sort().join('\n');

describe.each(['int8', 'fp32'])('predict --shard K/N, %s', (precision) => {
  it('the merged shards equal one unsharded run, byte for byte after sorting', () => {
    const dir = tempDir('shards-');
    const single = path.join(dir, 'single.jsonl');
    // the reference: one process over everything (--shard 0/1: the same one-item-per-run arithmetic)
    const run = cli(
      'predict',
      corpus,
      '--model',
      bundle,
      '--device',
      'cpu',
      '--precision',
      precision,
      '--shard',
      '0/1',
      '--out',
      single,
    );
    expect(run.status, run.stderr).toBe(3); // broken.wav
    expect(run.stderr).toContain(`, ${precision};`);
    const shards = [0, 1, 2].map((k) => path.join(dir, `shard-${k}.jsonl`));
    shards.forEach((out, k) => {
      const r = cli(
        'predict',
        corpus,
        '--model',
        bundle,
        '--device',
        'cpu',
        '--precision',
        precision,
        '--shard',
        `${k}/3`,
        '--out',
        out,
      );
      expect([0, 3], r.stderr).toContain(r.status);
      expect(r.stderr).toMatch(new RegExp(`shard ${k}/3: \\d+ to do of 25`));
    });
    const counts = shards.map((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length);
    expect(counts.reduce((a, b) => a + b)).toBe(25);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    const merged = path.join(dir, 'merged.jsonl');
    const m = cli('merge-predictions', ...shards, '--out', merged);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stderr).toContain('25 item(s), 1 failed');
    expect(fs.readFileSync(merged, 'utf8').trimEnd()).toBe(
      sortedLines(single)
        .split('\n')
        .sort((a, b) => {
          const pa = JSON.parse(a).path as string;
          const pb = JSON.parse(b).path as string;
          return pa < pb ? -1 : pa > pb ? 1 : 0;
        })
        .join('\n'),
    );
    expect(sortedLines(merged)).toBe(sortedLines(single));
    for (const l of fs
      .readFileSync(merged, 'utf8')
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x)))
      if (!l.error) expect(l.precision).toBe(precision);
  });
});

describe('a killed shard resumes', () => {
  it('keeps finished lines, drops the line cut off by the kill, predicts only the rest', () => {
    const dir = tempDir('resume-');
    const full = path.join(dir, 'full.jsonl');
    expect([0, 3]).toContain(cli('predict', corpus, '--model', bundle, '--shard', '1/2', '--out', full).status);
    const lines = fs.readFileSync(full, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(4);
    // what a kill leaves: a few whole lines (marked, to see that they are not redone) and half a line
    const out = path.join(dir, 'killed.jsonl');
    const kept = lines.slice(0, 3).map((l) => l.replace('"label":"', '"label":"kept-'));
    fs.writeFileSync(out, `${kept.join('\n')}\n${lines[3]!.slice(0, 40)}`);
    const r = cli('predict', corpus, '--model', bundle, '--shard', '1/2', '--out', out);
    expect([0, 3], r.stderr).toContain(r.status);
    expect(r.stderr).toContain(`shard 1/2: ${lines.length - 3} to do of 25 (3 already in ${out})`);
    const after = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(after.slice(0, 3)).toEqual(kept);
    expect(after.length).toBe(lines.length);
    expect([...after.slice(3)].sort()).toEqual([...lines.slice(3)].sort());
    // a second run has nothing left to do
    const again = cli('predict', corpus, '--model', bundle, '--shard', '1/2', '--out', out);
    expect(again.stderr).toContain('shard 1/2: 0 to do of 25');
    expect(fs.readFileSync(out, 'utf8').trim().split('\n').length).toBe(lines.length);
  });
});
