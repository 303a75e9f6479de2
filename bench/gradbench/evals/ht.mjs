/**
 * GradBench's ht: ADBench's hand tracking, the simple case (us empty). The model (models/ht.txt)
 * poses a skinned hand by theta; objective is the 3n errors between the points and their
 * vertices, jacobian their 3n × 26 Jacobian by theta.
 */
import { readFileSync } from 'node:fs';

const MODEL = readFileSync(new URL('../models/ht.txt', import.meta.url), 'utf8');
const BONES = 22;
const THETA = 26;

/** ADBench's hand model has 544 vertices; its instances 100 and more points. Small ones for the tests. */
const FULL_SIZES = [
  { label: 'hand1_t26_c100', vertices: 544, points: 100 },
  { label: 'hand2_t26_c192', vertices: 544, points: 192 },
];
const SMALL_SIZES = [{ label: 'v12_c6', vertices: 12, points: 6 }];

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
function input({ vertices, points }, random) {
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
    us: [],
  };
}

export function cases(sizes, random) {
  return (sizes === 'full' ? FULL_SIZES : SMALL_SIZES).flatMap((size) => {
    const data = input(size, random);
    return ['objective', 'jacobian'].map((name) => ({ label: size.label, function: name, input: data }));
  });
}

/** The stacked 4×4 blocks of a list of transforms, as one (4·bones) × 4 matrix. */
const stacked = (transforms) => transforms.flat();

export function define(library) {
  const compiled = new Map();
  const prepare = ({ theta, data, us }) => {
    if (us !== undefined && us.length > 0) throw new Error('ht: only the simple case (us empty) is implemented');
    const { model } = data;
    const at = {
      theta,
      parents: model.parents,
      baseRel: stacked(model.base_relatives),
      invBaseAbs: stacked(model.inverse_base_absolutes),
      basePos: model.base_positions,
      weights: model.weights,
      corr: data.correspondences,
      points: data.points,
    };
    const shapes = Object.fromEntries(
      Object.entries(at).map(([name, value]) => [
        name,
        Array.isArray(value[0]) ? [value.length, value[0].length] : [value.length],
      ]),
    );
    const key = JSON.stringify(shapes);
    if (!compiled.has(key)) compiled.set(key, library.compile(MODEL, shapes));
    return { model: compiled.get(key), at };
  };
  return {
    objective(input) {
      const { model, at } = prepare(input);
      // The first call builds the forward plan: work done once per shape.
      model.evaluate(at);
      return () => model.evaluate(at);
    },
    jacobian(input) {
      const { model, at } = prepare(input);
      const wrt = { wrt: ['theta'] };
      // The first call builds the plan and the linearisation: once per shape.
      model.jacobian(at, wrt);
      return () => model.jacobian(at, wrt).jacobian;
    },
  };
}
