/**
 * GradBench's kmeans eval: `cost`, the k-means objective of the centroids, and `dir`, the Newton
 * direction J·H⁻¹ from its gradient J and its Hessian's diagonal. The Hessian by the centroids is
 * diagonal (a point's squared distance involves one centroid, whose second derivative is 2·I), so
 * its diagonal is H·1, one Hessian-vector product, whose forward-over-reverse pass gives J too: the
 * dense k·d × k·d Hessian is never formed.
 */
import { readFileSync } from 'node:fs';
import { flat, modelCache } from '../model-cache.mjs';

const MODEL = readFileSync(new URL('../models/kmeans.txt', import.meta.url), 'utf8');

/** The eval's run.py: k ∈ {10, 100, 1000}, n ∈ {1000, 10000}, d ∈ {8, 16}, smallest first; centroids are the last k points. */
export function cases(sizes, random) {
  const shapes =
    sizes === 'small'
      ? [
          [3, 40, 2],
          [10, 100, 8],
        ]
      : [10, 100, 1000]
          .flatMap((k) => [1000, 10000].flatMap((n) => [8, 16].map((d) => [k, n, d])))
          .sort((a, b) => a[0] * a[1] * a[2] - b[0] * b[1] * b[2]);
  return shapes.flatMap(([k, n, d]) => {
    const points = Array.from({ length: n }, () => Array.from({ length: d }, random));
    const input = { points, centroids: points.slice(n - k) };
    const label = `k=${k},n=${n},d=${d}`;
    return [
      { label, function: 'cost', input },
      { label, function: 'dir', input },
    ];
  });
}

/** The model for the shapes of the points and centroids, the inputs as flat arrays. */
function compiler(library) {
  const models = modelCache(library, MODEL);
  return (name, input) => {
    const { points, centroids } = input;
    const shape = { P: [points.length, points[0].length], C: [centroids.length, centroids[0].length] };
    const { model, prepared } = models(name, shape);
    return {
      model,
      at: { P: flat(points), C: flat(centroids) },
      k: centroids.length,
      d: centroids[0].length,
      prepared,
    };
  };
}

export function define(library) {
  const prepare = compiler(library);
  return {
    cost(input) {
      const { model, at, prepared } = prepare('cost', input);
      return prepared(() => model.evaluateFlat(at)[0]);
    },
    dir(input) {
      const { model, at, k, d, prepared } = prepare('dir', input);
      const ones = new Float64Array(k * d).fill(1);
      return prepared(() => {
        const { gradient, hvp: diagonal } = model.hvpFlat(at, ones, { wrt: ['C'] });
        return Array.from({ length: k }, (_, i) =>
          Array.from({ length: d }, (_, j) => gradient[i * d + j] / diagonal[i * d + j]),
        );
      });
    },
  };
}
