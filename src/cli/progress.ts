/**
 * A progress line on standard error, only on a terminal and only for work
 * that lasts: it appears after half a second, redraws at most ten times a
 * second, and is erased when the work ends. Never on a pipe, never on
 * standard output.
 */
import type { Io } from './io.js';

const DELAY_MS = 500;
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private shown = false;

  constructor(
    private readonly io: Io,
    private readonly label: string,
  ) {}

  /** `done` of `total` units (total null when unknown, as for a batch on standard input). */
  update(done: number, total: number | null, unit: string): void {
    if (this.io.stderrIsTTY !== true) return;
    const now = performance.now();
    if (now - this.start < DELAY_MS || now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const rate = done / ((now - this.start) / 1000);
    let line = `${this.label}: ${done} ${unit}`;
    if (total !== null && total > 0) {
      const filled = Math.round((BAR_WIDTH * done) / total);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
      line = `${this.label} ${bar} ${Math.floor((100 * done) / total)}%  ${done}/${total} ${unit}`;
    }
    this.io.error(`\r${line}  (${Math.round(rate)}/s)\u001b[K`);
    this.shown = true;
  }

  /** Erases the line, if one was drawn. */
  finish(): void {
    if (this.shown) this.io.error('\r\u001b[K');
    this.shown = false;
  }
}
