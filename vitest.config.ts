import { defineConfig } from 'vitest/config';

/**
 * The suite of `npm test`, on every core (vitest's default leaves one free: a single worker on two cores).
 * Each worker reuses its module graph across the files it runs (isolate: false), so mathjs and the sources
 * load once per worker instead of once per file; test files keep no state between them, and spies are
 * restored after each test. Forks, not threads: the stack of a test is that of the CLI's main thread.
 * The timeout only catches a hang: the refusals at the default limits (512 MiB of input, 4 GiB of pattern)
 * page in that much memory, which took 20–30 s under load on a machine whose page faults cost ~11 µs each.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 90_000,
    pool: 'forks',
    maxWorkers: '100%',
    isolate: false,
    restoreMocks: true,
  },
});
