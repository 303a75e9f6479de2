/**
 * The loop helper thread (src/engine/threads.ts) starts only once the jobs it could have shared add up to
 * HELPER_START_WORK: a process that shares one small job (a CLI's check of a million partials) never pays a thread's
 * start. The test puts the helper back as at a process's start (other files run before it in the same worker).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import {
  HELPER_START_WORK,
  loopHelperStarted,
  SHARED_REDUCTION_FROM,
  useLoopHelperFrom,
} from '../src/engine/threads.js';

const threads = process.env['JACOBIAN_THREADS'];
afterAll(() => {
  if (threads === undefined) delete process.env['JACOBIAN_THREADS'];
  else process.env['JACOBIAN_THREADS'] = threads;
  useLoopHelperFrom(undefined);
});

describe('the loop helper', () => {
  it('is not started for jobs of little work, and is once they add up', () => {
    // Two threads whatever the machine's load, so that every large job would be shared.
    process.env['JACOBIAN_THREADS'] = '2';
    useLoopHelperFrom(undefined);
    expect(loopHelperStarted()).toBe(false);
    const n = SHARED_REDUCTION_FROM + 1000;
    const x = Float64Array.from({ length: n }, (_, k) => Math.sin(k));
    const max = compile('max(x)', { x: [n] });
    // Each max is a job of n steps: just under the start's work in all.
    const small = Math.floor(HELPER_START_WORK / n) - 1;
    for (let r = 0; r < small; r++) max.evaluateFlat({ x });
    expect(loopHelperStarted()).toBe(false);
    for (let r = 0; r < 2; r++) max.evaluateFlat({ x });
    expect(loopHelperStarted()).toBe(true);
  });
});
