/**
 * The Jacobians of a batch's flat lines of one program by a runner (engine/runner.ts): each point's numbers go
 * from the request's values into the plan, and its report is one object, made from the report the general path
 * gave at the lane's first point, whose value and J are the runner's, read in place. A point the runner cannot
 * do alone goes the general way, for the same line.
 */
import type { Mode, Program } from '../engine/program.js';
import type { JacobianRunner } from '../engine/runner.js';
import type { MatrixReport, Report } from '../format/report.js';
import type { Request } from './request.js';

export class JacobianLane {
  private constructor(
    readonly program: Program,
    private readonly runner: JacobianRunner,
    /** Each input's data in the request (in the order of the runner's inputs; null where the plan has none). */
    private readonly sources: readonly (ArrayLike<number> | null)[],
    private readonly shared: MatrixReport,
  ) {}

  /** A lane for the points of `request` after its first, whose report is `first`; null where none serves. */
  static of(request: Omit<Request, 'ms'>, first: Report, mode: Mode | undefined): JacobianLane | null {
    if (first.command !== 'jacobian' || !(first.matrix instanceof Float64Array) || first.warnings.length > 0)
      return null;
    const { program } = request;
    const runner = program.jacobianRunner(request.wrt, { mode: mode ?? 'auto' });
    if (runner === null || runner.mode !== first.mode || runner.method !== first.method) return null;
    if (runner.passes !== first.passes || runner.value.length !== first.value.data.length) return null;
    const sources = program.variables.map(({ name }, k) =>
      runner.inputs[k] === null ? null : request.point.get(name),
    );
    if (
      sources.some(
        (source, k) => source === undefined || (source !== null && source.length !== runner.inputs[k]!.length),
      )
    )
      return null;
    const shared: MatrixReport = {
      command: 'jacobian',
      expr: first.expr,
      title: first.title,
      at: first.at,
      wrt: first.wrt,
      inputs: first.inputs,
      value: { shape: first.value.shape, data: runner.value },
      m: first.m,
      n: first.n,
      warnings: [],
      matrix: runner.jacobian,
      mode: first.mode,
      method: first.method,
      passes: first.passes,
    };
    return new JacobianLane(program, runner, sources as readonly (ArrayLike<number> | null)[], shared);
  }

  /** The report at the point now in the request's values, until the next; null where the general path must run. */
  report(): MatrixReport | null {
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

  /** Whether the lane can serve a point: false once its program is kept interpreted. */
  get serves(): boolean {
    return this.runner.compiles;
  }
}
