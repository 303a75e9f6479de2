/** The helper thread of threads.ts: runs units of large fused loops (forward and the passes') with their own kernels. */
import { workerData } from 'node:worker_threads';
import type { HelperData } from '../ops/parallel.js';
import { serveLoops } from './threads.js';

serveLoops(workerData as HelperData);
