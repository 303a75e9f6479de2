import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run fuzz`: the fuzz tests alone (the contract's, inputs and outputs, mode agreement) and the seeded
 * properties, with the budget FUZZ_BUDGET gives (full by default; CI runs FUZZ_BUDGET=ci), and no time limit.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/fuzz.test.ts',
      'test/fuzz-io.test.ts',
      'test/fuzz-modes.test.ts',
      'test/properties.test.ts',
      'test/mode-agreement.test.ts',
      'test/sparsity.test.ts',
      'test/fusion.test.ts',
      'test/compiled.test.ts',
      'test/language.test.ts',
    ],
    testTimeout: 0,
  },
});
