import type { Environment } from 'vitest/environments';

/**
 * Node with Svelte's client build: the renderer's `*.svelte.ts` managers compile for the browser
 * (reactive `$state`/`$derived`, `svelte/reactivity`'s client maps), as they run in the app, without
 * a DOM (managers never touch one).
 */
export default {
  name: 'svelte-client',
  viteEnvironment: 'client',
  setup: () => ({ teardown: () => undefined }),
} satisfies Environment;
