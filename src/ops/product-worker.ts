/** The helper thread of parallel.ts: serves chunks of large matrix products with the serial kernels. */
import { workerData } from 'node:worker_threads';
import { type HelperData, serveProducts } from './parallel.js';
import { PRODUCT_KERNELS } from './product-kernel.js';

serveProducts(PRODUCT_KERNELS, workerData as HelperData);
