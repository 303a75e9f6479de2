/**
 * The results of a batch's flat lines of one program by a runner (engine/runner.ts): each point's numbers go
 * from the request's values into the plan, and its report is one object, made from the report the general path
 * gave at the lane's first point, whose value and result are the runner's, read in place. J, ∇f, vᵀJ and J·u
 * have lanes; a point the runner cannot do alone goes the general way, for the same line.
 */
import type { Mode, Program } from '../engine/program.js';
import type { PointRunner } from '../engine/runner.js';
import type { Report, ReportBase } from '../format/report.js';
import { matrixReport, vectorReport } from './commands.js';
import type { Request } from './request.js';

/** The grad command's seed: ∇f is the backward pass seeded with 1. */
const GRADIENT_SEED = Float64Array.of(1);

export class PointLane {
  private constructor(
    readonly program: Program,
    private readonly runner: PointRunner,
    /** Each input's data in the request (in the order of the runner's inputs; null where the plan has none). */
    private readonly sources: readonly (ArrayLike<number> | null)[],
    private readonly shared: Report,
  ) {}

  /**
   * A lane for the points of `request` after its first, whose report is `first` (its warnings aside: a point of
   * a lane has none, as its runner hands back a point with a NaN value or at a special point); null where none
   * serves.
   */
  static of(request: Omit<Request, 'ms'>, first: Report, mode: Mode | undefined): PointLane | null {
    const made = sharedReport(request, first, mode);
    if (made === null) return null;
    const { runner, shared } = made;
    const { program } = request;
    // The request binds every variable, at the shapes its program was compiled for.
    const sources = program.variables.map(({ name }, k) =>
      runner.inputs[k] === null ? null : request.point.get(name)!,
    );
    return new PointLane(program, runner, sources, shared);
  }

  /** The report at the point now in the request's values, until the next; null where the general path must run. */
  report(): Report | null {
    const { inputs } = this.runner;
    const { sources } = this;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k]!;
      const source = sources[k]!;
      if (input === null || source === null) continue;
      if (input.length === 1) input[0] = source[0]!;
      else input.set(source);
    }
    return this.runner.run() ? this.shared : null;
  }

  /** Whether the lane can serve a point: false once its program is kept interpreted, or compiled without its passes. */
  get serves(): boolean {
    return this.runner.compiles;
  }
}

/**
 * The runner of the command of `first`, and the report of every point it runs: `first`'s fields, its value and
 * result the runner's. Null for a command or a way of computing that has no runner.
 */
function sharedReport(
  request: Omit<Request, 'ms'>,
  first: Report,
  mode: Mode | undefined,
): { readonly runner: PointRunner; readonly shared: Report } | null {
  const { program, wrt } = request;
  const base = (runner: PointRunner): ReportBase => ({
    ...first,
    value: { shape: first.value.shape, data: runner.value },
    warnings: [],
  });
  switch (first.command) {
    case 'jacobian': {
      // The runner takes the way the first point's J took (Program's jacobianWay): its mode, method and passes.
      const runner =
        first.matrix instanceof Float64Array ? program.jacobianRunner(wrt, { mode: mode ?? 'auto' }) : null;
      if (runner === null) return null;
      return { runner, shared: matrixReport('jacobian', base(runner), { ...first, jacobian: runner.jacobian }, null) };
    }
    case 'grad':
    case 'vjp':
    case 'jvp': {
      const seed = first.command === 'grad' ? GRADIENT_SEED : first.seed;
      if (seed === null) return null;
      const runner = program.vectorRunner(first.command === 'jvp' ? 'forward' : 'reverse', seed, wrt);
      if (runner === null) return null;
      return { runner, shared: vectorReport(first.command, base(runner), first.seed, runner.vector) };
    }
    default:
      return null;
  }
}
