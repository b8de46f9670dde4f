// The Python lint (scripts/lint-python.mjs: Ruff's wasm build with training/ruff.toml) fails on a
// deliberately bad file and passes on training/ itself.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'lint-python.mjs');
const BAD = path.join(REPO_ROOT, 'tests', 'fixtures', 'lint', 'bad-python.py.txt');

describe('python lint', () => {
  it('reports an unused import, a mutable default and an undefined name, file:line, and exits non-zero', () => {
    const run = spawnSync(process.execPath, [SCRIPT, BAD], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(run.status).toBe(1);
    const codes = run.stdout
      .trim()
      .split('\n')
      .map((line) => /^tests\/fixtures\/lint\/bad-python\.py\.txt:(\d+):\d+: (\S+)/.exec(line)?.slice(1, 3).join(' '));
    expect(codes).toEqual(['2 F401', '5 B006', '8 F821']);
  });

  it('training/ is clean', () => {
    expect(execFileSync(process.execPath, [SCRIPT], { cwd: REPO_ROOT, encoding: 'utf8' })).toMatch(/training\/ clean/);
  });
});
