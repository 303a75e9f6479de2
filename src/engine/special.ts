/**
 * The kink report (SPEC §6): after the forward pass, every operation on a
 * path to the output is asked whether it was evaluated at a special point; the
 * entries of the result that were computed through such a point are named.
 */
import type { FoldedDomainPoint, GraphBuilder } from '../graph/builder.js';
import { OPS, type NodeId, type Operand, type OpSpec, type SpecialPoint } from '../ops/index.js';
import { scanSpecialPoints } from './compiled.js';
import { entriesFed, entriesFeeding, type Cuts } from './dependence.js';
import type { Passes } from './passes.js';
import type { Plan } from './plan.js';
import { reduceShared, worthSharingReduction } from './threads.js';
import { movingNodes } from './varying.js';

export interface KinkWarning {
  readonly kind: SpecialPoint['kind'];
  /** The operation, as written: `sqrt`, `max`, `.^`. */
  readonly operation: string;
  /** The subexpression where it sits. */
  readonly source: string;
  readonly convention: string;
  /** How many entries of that subexpression are at such a point. */
  readonly count: number;
  /** Entries [row, column] of J (0-based) computed through such a point; at most MAX_ENTRIES. */
  readonly entries: readonly (readonly [number, number])[];
}

// Dependence is traced for this many special entries of one subexpression, and this many J entries kept.
const MAX_TRACED = 256;
const MAX_ENTRIES = 10_000;

const cutAlways: Cuts = () => true;
/** Cuts where the partial's numbers do not move with the inputs: where a zero selects. */
const cutAtSelections =
  (moving: Uint8Array): Cuts =>
  (edge) =>
    !edge.reads.some((id) => moving[id]);

/** An operation a derivative goes through that has special points, with its operands in the plan. */
interface SpecialStep {
  readonly node: NodeId;
  readonly spec: OpSpec;
  readonly special: NonNullable<OpSpec['special']>;
  readonly out: Operand;
  readonly args: readonly Operand[];
}

/**
 * How the kink report asks an operation for its special points: an element-wise one by a loop of its test, a
 * large reduction to one number that can answer in pieces on two threads (threads.ts).
 */
function specialPointsOf(spec: OpSpec, out: Operand, args: readonly Operand[]): OpSpec['special'] {
  const test = spec.specialPoint;
  if (test !== undefined) return (v, out, args, found) => scanSpecialPoints(test, v, out, args, found);
  const inPieces = spec.specialInPieces;
  if (inPieces === undefined || out.size !== 1 || !worthSharingReduction(args[0]!.size)) return spec.special;
  const operands = [args[0]!.offset, out.offset];
  return (v, out, args, found) => {
    const folded = reduceShared(inPieces.pieces, operands, args[0]!.size, v);
    if (folded === null) return spec.special!(v, out, args, found);
    const point = inPieces.point(folded);
    if (point !== null) found(0, point);
  };
}

/** The active operations of `passes` that have special points: those the kink report asks after a forward pass. */
function specialSteps({ plan, lin }: Passes): SpecialStep[] {
  return lin.active.flatMap((node) => {
    const spec = OPS[plan.tape.op(node)];
    const out = plan.operand(node);
    const args = Array.from(plan.tape.args(node), (a) => plan.operand(a));
    const special = specialPointsOf(spec, out, args);
    if (special === undefined) return [];
    return [{ node, spec, special, out, args }];
  });
}

/**
 * Whether the last forward pass met a special point of an operation the derivative goes through (where
 * findKinkWarnings may report one): the check of a caller that needs no report where none was met. Its steps are
 * listed once; each call stops at the first point met.
 */
export function specialPointCheck(passes: Passes): () => boolean {
  const steps = specialSteps(passes);
  const values = passes.plan.values;
  let met = false;
  const meet = (): void => {
    met = true;
  };
  return () => {
    met = false;
    for (const { special, out, args } of steps) {
      special(values, out, args, meet);
      if (met) return true;
    }
    return false;
  };
}

/** Warnings of the last forward pass; `wrt` start at `columnOffsets` among the n columns of J. */
export function findKinkWarnings(
  b: GraphBuilder,
  passes: Passes,
  wrt: readonly NodeId[],
  columnOffsets: readonly number[],
  n: number,
): KinkWarning[] {
  const { plan, lin } = passes;
  // Built only when a special point needs tracing: most passes have none.
  let graph: ReturnType<Passes['stepGraph']> | null = null;
  let moving: Uint8Array | null = null;
  const warnings: KinkWarning[] = [];
  for (const { node, spec, special, out, args } of specialSteps(passes)) {
    const groups = new Map<string, { point: SpecialPoint; entries: number[] }>();
    special(plan.values, out, args, (entry, point) => {
      const key = `${point.kind}\u0000${point.convention}`;
      const group = groups.get(key) ?? { point, entries: [] };
      group.entries.push(entry);
      groups.set(key, group);
    });
    for (const { point, entries } of groups.values()) {
      // An infinite partial that a zero multiplies away leaves J finite but wrong (sqrt(x).*sqrt(x) at 0 gives
      // 0, not 1): only zeros that select (a branch not taken, a lost tie) end its paths, not zeros that move.
      const cuts = point.kind === 'infinite' ? cutAtSelections((moving ??= movingNodes(plan.tape, wrt))) : cutAlways;
      const pairs = new Map<number, readonly [number, number]>();
      graph ??= passes.stepGraph();
      for (const entry of entries.slice(0, MAX_TRACED)) {
        const rows = entriesFed(graph, node, entry, lin.output, cuts);
        const feeding = entriesFeeding(graph, node, entry, wrt, cuts);
        for (const i of rows) {
          feeding.forEach((columns, w) => {
            for (let c = 0; c < columns.length && pairs.size < MAX_ENTRIES; c++) {
              const j = columnOffsets[w]! + columns[c]!;
              pairs.set(i * n + j, [i, j]);
            }
          });
          if (pairs.size >= MAX_ENTRIES) break;
        }
      }
      // A special point that feeds no entry of J (a branch not taken) changes nothing.
      if (pairs.size === 0) continue;
      warnings.push({
        kind: point.kind,
        operation: spec.label,
        source: b.originOf(node)?.toString() ?? spec.label,
        convention: point.convention,
        count: entries.length,
        entries: [...pairs.keys()].sort((p, q) => p - q).map((key) => pairs.get(key)!),
      });
    }
  }
  return warnings;
}

/**
 * Domain errors (a NaN value) in the parts of the expression that no
 * derivative goes through, which findKinkWarnings does not visit: they can still
 * make the value NaN.
 */
export function valueDomainKinkWarnings(b: GraphBuilder, plan: Plan, active: ReadonlySet<NodeId>): KinkWarning[] {
  const warnings: KinkWarning[] = [];
  const folded = new Set<FoldedDomainPoint>();
  for (let node = 0; node < plan.tape.length; node++) {
    const operand = plan.operands[node];
    const spec = OPS[plan.tape.op(node)];
    const origin = b.originOf(node);
    // A constant reports what folding it met (sqrt(-4) + x): that operation has no node left to ask.
    if (operand !== undefined)
      for (const point of b.foldedDomainPoints(node)) {
        // Constants folded from the same one (c = sqrt(-4); c + 2*c) share its point: reported once.
        if (folded.has(point)) continue;
        folded.add(point);
        warnings.push({ kind: 'domain', ...point, entries: [] });
      }
    // Nodes without an origin are partials' numbers, not part of the expression.
    if (operand === undefined || origin === null || active.has(node)) continue;
    const args = Array.from(plan.tape.args(node), (a) => plan.operand(a));
    const special = specialPointsOf(spec, operand, args);
    if (special === undefined) continue;
    let count = 0;
    let convention = '';
    special(plan.values, operand, args, (_entry, point) => {
      if (point.kind !== 'domain') return;
      count++;
      convention = point.convention;
    });
    if (count > 0)
      warnings.push({
        kind: 'domain',
        operation: spec.label,
        source: origin.toString(),
        convention,
        count,
        entries: [],
      });
  }
  return warnings;
}
