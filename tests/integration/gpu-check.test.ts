import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../helpers/fixtures';

/**
 * scripts/gpu-check.sh (issue 15, item 3) runs end to end on its CPU fallback: on a machine without an
 * NVIDIA GPU (CI's) it says so and reports the CPU float32 run of `wavfusion predict` on the demo corpus;
 * on one with a GPU the CUDA rows follow, each compared with that run.
 */
describe('gpu-check script', () => {
  it('--quick reports the CPU run, and says when there is no GPU', () => {
    const out = tempDir();
    const printed = execFileSync('bash', [path.join(REPO_ROOT, 'scripts/gpu-check.sh'), '--quick', '--out', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(printed).toContain(report.trim());
    const gpu = (() => {
      try {
        execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    if (!gpu) expect(report).toMatch(/GPU: \*\*none found .*the CPU path only was run/);
    const cpu = report.split('\n').find((l) => l.startsWith('| cpu-fp32 |'));
    expect(cpu, report).toBeDefined();
    // every demo clip predicted on the CPU, at some speed, and identical to itself
    expect(cpu).toMatch(
      /^\| cpu-fp32 \| cpu \([^)]*\) \| 15 \| 36 \(failed 0\) \| \d+\.\d \| – \| \d+ MB \| 36\/36 \| 0\.00e\+00 \|$/,
    );
    const rows = report.split('\n').filter((l) => l.startsWith('| cuda-'));
    expect(rows.length).toBe(gpu ? 3 : 0);
    const jsonl = fs.readFileSync(path.join(out, 'cpu-fp32.jsonl'), 'utf8').trim().split('\n');
    expect(jsonl).toHaveLength(36);
    expect(JSON.parse(jsonl[0]!).precision).toBe('fp32');
  }, 120_000);
});
