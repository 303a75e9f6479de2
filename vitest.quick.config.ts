import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:quick`, the inner loop: no build, no type-check, no lint, and not the files whose time goes
 * to fuzzing or to child processes (the fuzz budgets, the CLI goldens, the package imported by its name).
 * cli.errors.test.ts and limits.test.ts still run a few child processes against the last build.
 */
export default defineConfig({
  test: {
    ...base.test,
    exclude: ['test/fuzz.test.ts', 'test/fuzz-modes.test.ts', 'test/cli.golden.test.ts', 'test/library.test.ts'],
  },
});
