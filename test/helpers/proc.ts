/** What /proc says of a child process: how far it has read a file, its peak memory, its processor time. */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** The offset the child has read its open file `path` to, or null when it has it open no more (or not yet). */
export function readOffset(pid: number, path: string): number | null {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== path) continue;
      const pos = /^pos:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (pos !== null) return Number(pos[1]);
    }
  } catch {
    // The process has ended, or closed the descriptor between the listing and the read.
  }
  return null;
}

/** The child's peak resident memory so far, in MiB (VmHWM). */
export function peakMiB(pid: number): number {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (hwm === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(hwm[1]) / 1024;
}

/** The processor time the child has used so far, in clock ticks (utime + stime of /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces: state is the first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Waits, reading nothing, until the child has read `path` to its end (and closed it), or has stopped: the
 * same offset in it and no processor time used, at several looks in a row (a child that only waits for its
 * turn on a busy machine still gets some). Returns that offset (the file's size once it is closed).
 */
export async function untilInputStops(child: ChildProcess, path: string): Promise<number> {
  const size = statSync(path).size;
  let last: string | null = null;
  let same = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (child.exitCode !== null) throw new Error(`the batch ended (status ${child.exitCode}) before it was read`);
    const offset = readOffset(child.pid!, path);
    if (offset === null) {
      if (last !== null) return size;
      continue;
    }
    const now = `${offset} ${cpuTicks(child.pid!)}`;
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 4) return offset;
  }
}
