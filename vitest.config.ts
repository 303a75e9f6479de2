import { defineConfig } from 'vitest/config';

/**
 * The suite of `npm test`, on every core (vitest's default leaves one free: a single worker on two cores).
 * Each worker reuses its module graph across the files it runs (isolate: false), so mathjs and the sources
 * load once per worker instead of once per file; test files keep no state between them, and spies are
 * restored after each test. Forks, not threads: the stack of a test is that of the CLI's main thread.
 * The timeout only catches a hang: no test pages in a default limit's worth of memory any more, but a file
 * of child processes can take tens of seconds on two cores shared with other work. The transformed modules are
 * cached on disk (node_modules/.experimental-vitest-cache, keyed by their content), so a run after the first
 * transforms only what changed: about 10 s of CPU less.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 90_000,
    pool: 'forks',
    maxWorkers: '100%',
    isolate: false,
    restoreMocks: true,
    experimental: { fsModuleCache: true },
  },
});
