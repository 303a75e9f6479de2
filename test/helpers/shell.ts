/** Shell scripts around the built command, under an address-space limit, as child processes that do not block. */
import { execFile } from 'node:child_process';
import { ROOT } from './cli.js';

export interface Shell {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `script` in sh from the repository root, `$J` the command (`$NODE` for Node), under `ulimit -v 4000000`,
 * so that reading or allocating everything first would crash instead of pass. Asynchronous, so that the
 * independent scripts of a file run side by side (describe.concurrent, Promise.all). An exit status or a
 * signal is the result; a failure to start, output beyond 64 MiB or the 60 s timeout's kill rejects.
 */
export function sh(script: string): Promise<Shell> {
  const node = process.execPath;
  return new Promise((resolve, reject) => {
    const child = execFile(
      'sh',
      ['-c', `ulimit -v 4000000; NODE="${node}"; J="${node} bin/jacobian.cjs"; ${script}`],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && (error.killed === true || typeof error.code === 'string')) reject(error);
        else resolve({ status: child.exitCode, signal: child.signalCode, stdout, stderr });
      },
    );
  });
}
