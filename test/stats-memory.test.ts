/**
 * --stats reports the peak memory of the CLI's own process. On Linux a child
 * starts with the resident size of the process that spawned it in getrusage's
 * maxRSS, so a batch started by a large test runner once reported its ~2 GB
 * as its own. Here a parent holding HELD_MIB resident starts the CLI.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

// Three times what the CLI alone holds (about 50 MiB): enough to tell the two apart, and each MiB paged in costs
// time here.
const HELD_MIB = 160;

// The parent touches every page of its buffer (filled, so resident), then runs the CLI and passes on its stderr.
const PARENT = `
const { spawnSync } = require('node:child_process');
const held = Buffer.alloc(${HELD_MIB} * 1024 * 1024, 1);
const cli = spawnSync(process.execPath, ['bin/jacobian.cjs', 'x*2', '--at', '1,2,3', '--stats'], { encoding: 'utf8' });
process.stdout.write(JSON.stringify({ status: cli.status, stderr: cli.stderr, held: held.length }));
`;

describe('--stats peak memory', () => {
  it(`is the CLI's own, not the ${HELD_MIB} MiB of the process that started it`, () => {
    const parent = spawnSync(process.execPath, ['-e', PARENT], { cwd: ROOT, encoding: 'utf8', env: { PATH: '' } });
    expect(parent.status).toBe(0);
    const { status, stderr, held } = JSON.parse(parent.stdout) as { status: number; stderr: string; held: number };
    expect(held).toBe(HELD_MIB << 20);
    expect(status).toBe(0);
    const { maxRssMiB } = JSON.parse(stderr) as { maxRssMiB: number };
    // The CLI alone holds Node and its bundle, well under half of what its parent holds.
    expect(maxRssMiB).toBeGreaterThan(0);
    expect(maxRssMiB).toBeLessThan(HELD_MIB / 2);
  });
});
