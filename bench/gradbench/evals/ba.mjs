/**
 * GradBench's ba: ADBench's bundle adjustment. The model (models/ba.txt) is the reprojection error
 * of one observation and models/ba_weight.txt its weight error; each is compiled once and run for
 * every observation. The Jacobian's nonzero blocks (2×15 and 1×1 per observation) come from the
 * engine; this module only places them in ADBench's compressed-row matrix.
 */
import { readFileSync } from 'node:fs';

const CAMERA_PARAMETERS = 11;
/** A reprojection row's nonzeros: the camera's 11 parameters, the point's 3 coordinates, the weight. */
const ROW_NONZEROS = CAMERA_PARAMETERS + 3 + 1;
/** The eval sends each list of the sparse Jacobian as its first 30 entries and its last. */
const KEPT = 30;

const model = (name) => readFileSync(new URL(`../models/${name}.txt`, import.meta.url), 'utf8');

/** ADBench's data files ba1 and ba2, GradBench's default sizes; small ones for the tests, one at a zero rotation. */
const FULL_SIZES = [
  { label: 'ba1_n49_m7776_p31843', n: 49, m: 7776, p: 31843 },
  { label: 'ba2_n21_m11315_p36455', n: 21, m: 11315, p: 36455 },
];
const SMALL_SIZES = [
  { label: 'n3_m5_p12', n: 3, m: 5, p: 12 },
  { label: 'n2_m3_p10_rot0', n: 2, m: 3, p: 10, zeroRotation: true },
];

/** One camera, point, weight and feature, in the ranges of ADBench's files; the eval replicates them. */
function input({ n, m, p, zeroRotation }, random) {
  const uniform = (low, high) => low + (high - low) * random();
  const rotation = zeroRotation ? [0, 0, 0] : [uniform(-0.2, 0.2), uniform(-0.2, 0.2), uniform(-0.2, 0.2)];
  const centre = [uniform(-1, 1), uniform(-1, 1), uniform(-1, 1)];
  const intrinsics = [uniform(300, 600), uniform(-10, 10), uniform(-10, 10), uniform(-0.1, 0.1), uniform(-0.01, 0.01)];
  return {
    n,
    m,
    p,
    cam: [...rotation, ...centre, ...intrinsics],
    x: [uniform(-1, 1), uniform(-1, 1), uniform(4, 8)],
    w: uniform(0.5, 1.5),
    feat: [uniform(-300, 300), uniform(-300, 300)],
  };
}

export function cases(sizes, random) {
  return (sizes === 'full' ? FULL_SIZES : SMALL_SIZES).flatMap((size) => {
    const data = input(size, random);
    return ['objective', 'jacobian'].map((name) => ({ label: size.label, function: name, input: data }));
  });
}

/** The problem as the eval defines it: n cameras, m points, p observations; observation i sees camera i mod n and point i mod m. */
function problem(data) {
  const { n, m, p } = data;
  const cams = Array.from({ length: n }, () => Float64Array.from(data.cam));
  const points = Array.from({ length: m }, () => Float64Array.from(data.x));
  const weights = new Float64Array(p).fill(data.w);
  const feats = Array.from({ length: p }, () => Float64Array.from(data.feat));
  const camera = (i) => i % n;
  const point = (i) => i % m;
  return { n, m, p, cams, points, weights, feats, camera, point };
}

export function define(library) {
  let compiled;
  const models = () =>
    (compiled ??= {
      reprojection: library.compile(model('ba'), { cam: [CAMERA_PARAMETERS], X: [3], w: [], feat: [2] }),
      weight: library.compile(model('ba_weight'), { w: [] }),
    });
  const at = (q, i) => ({ cam: q.cams[q.camera(i)], X: q.points[q.point(i)], w: q.weights[i], feat: q.feats[i] });

  return {
    objective(data) {
      const { reprojection, weight } = models();
      const q = problem(data);
      // The first call builds the forward plans: work done once per shape, not per run.
      reprojection.evaluate(at(q, 0));
      weight.evaluate({ w: q.weights[0] });
      return () => {
        const reprojectionErrors = new Float64Array(2 * q.p);
        const weightErrors = new Float64Array(q.p);
        for (let i = 0; i < q.p; i++) {
          reprojectionErrors.set(reprojection.evaluate(at(q, i)), 2 * i);
          weightErrors[i] = weight.evaluate({ w: q.weights[i] });
        }
        return {
          reproj_error: { elements: Array.from(reprojectionErrors.subarray(0, 2)), repeated: q.p },
          w_err: { element: weightErrors[0], repeated: q.p },
        };
      };
    },

    jacobian(data) {
      const { reprojection, weight } = models();
      const q = problem(data);
      const wrt = { wrt: ['cam', 'X', 'w'] };
      // The first call builds the plans and the linearisation for these variables: once per shape.
      reprojection.jacobian(at(q, 0), wrt);
      weight.jacobian({ w: q.weights[0] });
      return () => {
        const rows = new Int32Array(3 * q.p + 1);
        const cols = new Int32Array(2 * ROW_NONZEROS * q.p + q.p);
        const vals = new Float64Array(cols.length);
        let k = 0;
        let row = 0;
        for (let i = 0; i < q.p; i++) {
          const block = reprojection.jacobian(at(q, i), wrt).jacobian;
          const pointColumn = CAMERA_PARAMETERS * q.n + 3 * q.point(i);
          const weightColumn = CAMERA_PARAMETERS * q.n + 3 * q.m + i;
          for (const derivatives of block) {
            for (let j = 0; j < ROW_NONZEROS; j++) {
              cols[k + j] =
                j < CAMERA_PARAMETERS
                  ? CAMERA_PARAMETERS * q.camera(i) + j
                  : j < CAMERA_PARAMETERS + 3
                    ? pointColumn + j - CAMERA_PARAMETERS
                    : weightColumn;
              vals[k + j] = derivatives[j];
            }
            k += ROW_NONZEROS;
            rows[++row] = k;
          }
        }
        for (let i = 0; i < q.p; i++) {
          cols[k] = CAMERA_PARAMETERS * q.n + 3 * q.m + i;
          vals[k] = weight.jacobian({ w: q.weights[i] }).jacobian[0][0];
          rows[++row] = ++k;
        }
        const kept = (list) => [...list.subarray(0, KEPT), list[list.length - 1]];
        return { rows: kept(rows), cols: kept(cols), vals: kept(vals) };
      };
    },
  };
}
