import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** `npm run fuzz`: the fuzz tests alone, with the budget FUZZ_BUDGET gives (full by default), and no time limit. */
export default defineConfig({
  test: { ...base.test, include: ['test/fuzz.test.ts', 'test/fuzz-io.test.ts'], testTimeout: 0 },
});
