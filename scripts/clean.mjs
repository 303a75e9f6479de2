// Empties dist before a build, so that nothing from an earlier build (a removed module) is packed or run.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
