/**
 * GradBench's ht: ADBench's hand tracking. models/ht_hand.txt poses a skinned hand by theta; then
 * models/ht.txt (the simple case, us empty) or models/ht_complicated.txt (a point on a triangle at
 * the barycentric coordinates us) gives the 3n errors at the points. objective is the errors;
 * jacobian their Jacobian by theta (3n × 26), with, in the complicated case, each point's two
 * columns by its us first (3n × 28), as ADBench gives it.
 */
import { readFileSync } from 'node:fs';
import { compiledModels } from '../model-cache.mjs';

const model = (name) => readFileSync(new URL(`../models/${name}.txt`, import.meta.url), 'utf8');
const HAND = model('ht_hand');
const SIMPLE = `${HAND}\n${model('ht')}`;
const COMPLICATED = `${HAND}\n${model('ht_complicated')}`;
const BONES = 22;
const THETA = 26;

/** ADBench's hand model has 544 vertices; its instances 100 and more points. Small ones for the tests. */
const FULL_SIZES = [false, true].flatMap((complicated) => [
  { label: 'hand1_t26_c100', vertices: 544, points: 100, complicated },
  { label: 'hand2_t26_c192', vertices: 544, points: 192, complicated },
]);
const SMALL_SIZES = [
  { label: 'v12_c6', vertices: 12, points: 6, complicated: false },
  { label: 'v12_c5', vertices: 12, points: 5, complicated: true },
];

const multiply = (a, b) => a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));

/** A rigid 4×4 transform: a rotation about a random axis by a small angle, and a translation. */
function rigid(random) {
  const [a, b, c] = [random() - 0.5, random() - 0.5, random() - 0.5].map((x) => 0.6 * x);
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(c), Math.sin(c)];
  const R = multiply(
    multiply(
      [
        [cc, -sc, 0],
        [sc, cc, 0],
        [0, 0, 1],
      ],
      [
        [cb, 0, -sb],
        [0, 1, 0],
        [sb, 0, cb],
      ],
    ),
    [
      [1, 0, 0],
      [0, ca, -sa],
      [0, sa, ca],
    ],
  );
  const t = [random() - 0.5, random() - 0.5, random()];
  return [...R.map((row, i) => [...row, t[i]]), [0, 0, 0, 1]];
}

/** The inverse of a rigid transform [R t; 0 1]: [Rᵀ −Rᵀt; 0 1]. */
function inverseRigid(T) {
  const Rt = [0, 1, 2].map((i) => [0, 1, 2].map((j) => T[j][i]));
  const t = Rt.map((row) => -row.reduce((s, x, k) => s + x * T[k][3], 0));
  return [...Rt.map((row, i) => [...row, t[i]]), [0, 0, 0, 1]];
}

/** A hand of ADBench's shape: a root, a wrist, five fingers of four bones; vertices weighted by two or three bones. */
function input({ vertices, points, complicated }, random) {
  const parents = [-1, 0, ...[0, 1, 2, 3, 4].flatMap((f) => [1, 2 + 4 * f, 3 + 4 * f, 4 + 4 * f])];
  const baseRelatives = parents.map(() => rigid(random));
  const absolutes = [];
  parents.forEach((parent, b) =>
    absolutes.push(parent < 0 ? baseRelatives[b] : multiply(absolutes[parent], baseRelatives[b])),
  );
  const weights = Array.from({ length: vertices }, () => {
    const row = new Array(BONES).fill(0);
    for (let k = 0; k < 2 + Math.floor(2 * random()); k++) row[Math.floor(BONES * random())] += random();
    const total = row.reduce((s, x) => s + x, 0);
    return row.map((x) => x / total);
  });
  return {
    theta: Array.from({ length: THETA }, (_, i) => (i >= 3 && i < 6 ? random() - 0.5 : 0.4 * (random() - 0.5))),
    data: {
      model: {
        bone_count: BONES,
        bone_names: parents.map((_, b) => `bone${b}`),
        parents,
        base_relatives: baseRelatives,
        inverse_base_absolutes: absolutes.map(inverseRigid),
        base_positions: Array.from({ length: vertices }, () => [random() - 0.5, random() - 0.5, 2 * random(), 1]),
        weights,
        triangles: Array.from({ length: vertices }, () => [0, 1, 2].map(() => Math.floor(vertices * random()))),
        is_mirrored: false,
      },
      correspondences: Array.from({ length: points }, () => Math.floor(vertices * random())),
      points: Array.from({ length: points }, () => [random() - 0.5, random() - 0.5, 2 * random()]),
    },
    us: complicated ? Array.from({ length: 2 * points }, () => 0.5 * random()) : [],
  };
}

export function cases(sizes, random) {
  return (sizes === 'full' ? FULL_SIZES : SMALL_SIZES).flatMap((size) => {
    const data = input(size, random);
    const label = `${size.complicated ? 'complicated' : 'simple'}/${size.label}`;
    return ['objective', 'jacobian'].map((name) => ({ label, function: name, input: data }));
  });
}

/** The stacked 4×4 blocks of a list of transforms, as one (4·bones) × 4 matrix. */
const stacked = (transforms) => transforms.flat();

export function define(library) {
  const simpleModels = compiledModels(library, SIMPLE);
  const complicatedModels = compiledModels(library, COMPLICATED);
  const prepare = ({ theta, data, us }) => {
    const { model } = data;
    const complicated = us.length > 0;
    const at = {
      theta,
      baseRel: stacked(model.base_relatives),
      invBaseAbs: stacked(model.inverse_base_absolutes),
      basePos: model.base_positions,
      weights: model.weights,
      points: data.points,
      ...(complicated ? { us } : {}),
    };
    // The numbers that pick rows (bones' parents, points' vertices or triangles) are compile constants: indices.
    const constants = {
      parents: model.parents,
      corr: data.correspondences,
      ...(complicated ? { triangles: model.triangles } : {}),
    };
    const shapes = Object.fromEntries(
      Object.entries(at).map(([name, value]) => [
        name,
        Array.isArray(value[0]) ? [value.length, value[0].length] : [value.length],
      ]),
    );
    const models = complicated ? complicatedModels : simpleModels;
    return { model: models(shapes, constants), at, complicated, points: data.points.length };
  };
  return {
    objective(input) {
      const { model, at } = prepare(input);
      // The first call builds the forward plan: work done once per shape.
      model.evaluate(at);
      return () => model.evaluate(at);
    },
    jacobian(input) {
      const { model, at, complicated, points } = prepare(input);
      const wrt = { wrt: complicated ? ['us', 'theta'] : ['theta'] };
      if (!complicated) {
        // The first call builds the plan and the linearisation: once per shape.
        model.jacobian(at, wrt);
        return () => model.jacobian(at, wrt).jacobian;
      }
      // Row 3i+k depends on us only through point i's two numbers: J is sparse, its pattern and
      // colouring found by the first call (once per shape). Those two columns first, then theta's.
      model.sparseJacobian(at, wrt);
      return () => {
        const { rows, cols, values } = model.sparseJacobian(at, wrt);
        const J = Array.from({ length: 3 * points }, () => new Array(2 + 26).fill(0));
        rows.forEach((r, e) => {
          const c = cols[e];
          J[r][c < 2 * points ? c - 2 * Math.floor(r / 3) : 2 + c - 2 * points] = values[e];
        });
        return J;
      };
    },
  };
}
