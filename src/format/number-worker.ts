/** The helper thread of shared-numbers.ts: formats chunks of large arrays' JSON numbers. */
import { workerData } from 'node:worker_threads';
import type { HelperData } from '../ops/parallel.js';
import { serveNumberChunks } from './shared-numbers.js';

serveNumberChunks(workerData as HelperData);
