import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'net',
  'worker_threads',
  'url',
  'util',
  'stream',
];
const noNodeInRenderer = [
  ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]),
  'electron',
  'better-sqlite3',
  'onnxruntime-node',
].map((name) => ({
  name,
  message: 'The renderer never touches Node, Electron or the filesystem: go through the StudioClient.',
}));

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
    // The renderer is browser code: no Node globals, no Node or Electron imports.
    files: ['src/renderer/**/*'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', { paths: noNodeInRenderer }] },
  },
  {
    // The core runs in plain Node: only the desktop shell and the preload may import electron.
    files: ['src/main/**/*', 'src/shared/**/*'],
    ignores: ['src/main/desktop/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'The core never imports electron; wire it in src/main/desktop.' }] },
      ],
    },
  },
);
