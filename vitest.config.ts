import { svelte } from '@sveltejs/vite-plugin-svelte';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The studio's own data folder (recent projects, verified stamps) for this test run, not the user's.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-vitest-home-'));

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify('0.0.0-test') },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { WAVFUSION_HOME: home },
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // The renderer's state managers, beside them as *.svelte.spec.ts: compiled by Svelte for the
        // browser (runes work), run in Node with a client-side module environment and no DOM.
        extends: true,
        plugins: [svelte()],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'renderer',
          include: ['src/renderer/**/*.svelte.spec.ts'],
          environment: './tests/setup/svelte-client-environment.ts',
        },
      },
    ],
  },
});
