import js from '@eslint/js';
import { builtinModules } from 'node:module';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

// ---------- the layers, enforced (ARCHITECTURE.md, "Lint zones") ----------

/** Every Node built-in, with and without `node:`, sub-paths included (`fs/promises`, `node:events`). */
const NODE_BUILTINS = {
  regex: `^(node:.*|(${builtinModules.filter((m) => !m.includes('/')).join('|')})(/.*)?)$`,
};
const NO_NODE_IN_BROWSER_CODE = {
  ...NODE_BUILTINS,
  message: 'Browser code never touches Node, Electron or the filesystem: go through the StudioClient.',
};
const NO_NATIVE_IN_BROWSER_CODE = {
  regex: '^(electron|better-sqlite3|onnxruntime-node|ws)(/.*)?$',
  message: 'Browser code never touches Node, Electron or the filesystem: go through the StudioClient.',
};
const NO_ELECTRON_IN_CORE = {
  regex: '^electron(/.*)?$',
  message: 'The core never imports electron; wire it in src/main/desktop.',
};

/** The core's layers, lowest first: each may import the ones below it, never one above. */
const SERVICES = [
  'annotation',
  'agreement',
  'audio',
  'evaluation',
  'export',
  'import',
  'inference',
  'jobs',
  'merge',
  'training',
];
const LAYERS = [['db'], ['project'], SERVICES, ['api'], ['host', 'desktop', 'cli']];

/** A pattern banning relative imports of the given src/main folders (but the `allowed` exceptions). */
const importsOf = (folders, message, allowed = []) => ({
  regex: `${allowed.map((a) => `(?!${a.replaceAll('.', '\\.')}$)`).join('')}^(\\.\\./)+(${folders.join('|')})(/|$)`,
  message,
});
/**
 * Known upward imports, to be moved down (not a licence for more): the row query reads consensus
 * helpers that live with the agreement service (issue 11).
 */
const KNOWN_EXCEPTIONS = { db: ['../agreement/consensus'] };

/** One config per layer folder: no imports from the layers above it (nor, at the top, from its siblings). */
const layerZones = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return layer.map((folder) => {
    const top = i === LAYERS.length - 1;
    // The entry points stand side by side: serve (cli) starts the host; nothing imports desktop or cli.
    const banned = top ? layer.filter((f) => f !== folder && !(folder === 'cli' && f === 'host')) : above;
    return {
      files: [`src/main/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...(folder === 'desktop' ? [] : [NO_ELECTRON_IN_CORE]),
              importsOf(
                banned.length ? banned : ['(?!)'],
                `src/main/${folder} sits below ${banned.join(', ')}: ` +
                  'db ← project ← services ← api ← {host, desktop, cli}. Move the code down, or pass it in.',
                KNOWN_EXCEPTIONS[folder],
              ),
              importsOf(['renderer', 'preload'], 'The core never imports the renderer or the preload.'),
            ],
          },
        ],
      },
    };
  });
});

export default ts.config(
  {
    ignores: [
      'out/',
      'node_modules/',
      '.cache/',
      'training/',
      'test-results/',
      'playwright-report/',
      'tests/.output/',
      'benchmarks/.work/',
      // Wrong on purpose: tests/unit/lint-zones.test.ts lints them as if they sat in a zone.
      'tests/fixtures/lint/',
    ],
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // Type-aware rules where the types are: the app's own code.
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    ignores: ['src/**/*.d.ts'],
    languageOptions: { parserOptions: { projectService: true, extraFileExtensions: ['.svelte'] } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },
  // src/main/*.ts (errors, events, paths, version): below every layer.
  {
    files: ['src/main/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_ELECTRON_IN_CORE,
            {
              regex: `^\\./(${LAYERS.flat().join('|')})(/|$)`,
              message: 'src/main/*.ts is below every layer: it imports only src/shared.',
            },
          ],
        },
      ],
    },
  },
  ...layerZones,
  {
    // The contract both sides import: no Node, no Electron, nothing of either side.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_NODE_IN_BROWSER_CODE,
            NO_NATIVE_IN_BROWSER_CODE,
            importsOf(['main', 'renderer', 'preload'], 'src/shared imports nothing but itself and zod.'),
          ],
        },
      ],
    },
  },
  {
    // The preload: electron and src/shared, nothing else.
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!electron$|\\.\\./shared/)',
              message: 'The preload imports only electron and src/shared (the typed bridge).',
            },
          ],
        },
      ],
    },
  },
  {
    // The renderer is browser code: no Node globals, no Node or Electron imports, nothing of the core.
    files: ['src/renderer/**/*'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_NODE_IN_BROWSER_CODE,
            NO_NATIVE_IN_BROWSER_CODE,
            importsOf(['main', 'preload'], 'The renderer talks to the core only through the StudioClient.'),
          ],
        },
      ],
    },
  },
);
