// The lint config enforces the layers (ARCHITECTURE.md, "Lint zones"): fixture files with wrong
// imports, linted by ESLint's Node API as if they sat in a zone, fail with the zone's rule.
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures';

const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'lint');

// The fixtures (.ts.txt: kept out of tsc and of ESLint's own run) are in no TypeScript project, so the type-aware rules are off for them.
const eslint = new ESLint({
  cwd: REPO_ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': 'off',
    },
  },
});

/** The imports ESLint's no-restricted-imports refuses in `fixture`, linted as if it were at `asPath`. */
async function refusedImports(fixture: string, asPath: string): Promise<string[]> {
  const code = fs.readFileSync(path.join(FIXTURES, fixture), 'utf8');
  const [result] = await eslint.lintText(code, { filePath: path.join(REPO_ROOT, asPath) });
  const fatal = result!.messages.filter((m) => m.fatal);
  expect(fatal, 'the fixture parses').toEqual([]);
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => /'([^']+)' import/.exec(m.message)?.[1] ?? m.message);
}

describe('lint zones', () => {
  it('the renderer may not import Node (node:*, bare built-ins like events), Electron, or the core', async () => {
    expect(await refusedImports('renderer-imports-node.ts.txt', 'src/renderer/src/lib/state/x.ts')).toEqual([
      'node:fs/promises',
      'events',
      'electron',
      '../../../../main/api/studio',
    ]);
  });

  it('src/main/db may not import a layer above it (api, project), but may import errors and shared', async () => {
    expect(await refusedImports('db-imports-api.ts.txt', 'src/main/db/x.ts')).toEqual([
      '../api/handlers',
      '../project/project-store',
    ]);
  });

  it('the preload imports only electron and src/shared', async () => {
    expect(await refusedImports('preload-imports-core.ts.txt', 'src/preload/x.ts')).toEqual(['../main/api/studio']);
  });

  it('the same imports pass where the layers allow them (the API may import the project store)', async () => {
    expect(await refusedImports('db-imports-api.ts.txt', 'src/main/host/x.ts')).toEqual([]);
  });
});
