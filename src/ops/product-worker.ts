/** The helper thread of parallel.ts: serves chunks of large matrix products with the serial kernel. */
import { workerData } from 'node:worker_threads';
import { type HelperData, serveProducts } from './parallel.js';
import { addRowProduct } from './product-kernel.js';

serveProducts(addRowProduct, workerData as HelperData);
