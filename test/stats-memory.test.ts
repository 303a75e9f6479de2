/**
 * --stats reports the peak memory of the CLI's own process. On Linux a child
 * starts with the resident size of the process that spawned it in getrusage's
 * maxRSS, so a batch started by a large test runner once reported its ~2 GB
 * as its own. Here this worker, holding at least HELD_MIB resident, starts the CLI.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

// Three times what the CLI alone holds (about 50 MiB): enough to tell the two apart, and each MiB paged in costs
// time here.
const HELD_MIB = 160;

describe('--stats peak memory', () => {
  it(`is the CLI's own, not the ${HELD_MIB} MiB of the process that started it`, () => {
    // The worker already holds most of it (its modules and heap); a filled buffer, its pages touched, tops it up,
    // with 8 MiB to spare for what the worker may give back before the CLI starts.
    const missing = Math.max(0, HELD_MIB + 8 - process.memoryUsage().rss / 2 ** 20);
    const held = Buffer.alloc(Math.ceil(missing * 2 ** 20), 1);
    const resident = process.memoryUsage().rss / 2 ** 20;
    const cli = spawnSync(process.execPath, ['bin/jacobian.cjs', 'x*2', '--at', '1,2,3', '--stats'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: '' },
    });
    expect(resident).toBeGreaterThanOrEqual(HELD_MIB);
    expect(held.every((byte) => byte === 1)).toBe(true);
    expect(cli.status).toBe(0);
    const { maxRssMiB } = JSON.parse(cli.stderr) as { maxRssMiB: number };
    // The CLI alone holds Node and its bundle, well under half of what its parent holds.
    expect(maxRssMiB).toBeGreaterThan(0);
    expect(maxRssMiB).toBeLessThan(HELD_MIB / 2);
  });
});
