/**
 * J at one point after another of the same shapes (a batch's lines): what Program.jacobian does for a small
 * Jacobian of compiled passes, without what it does per call besides (names looked up, a Map read, memory
 * checks, results allocated). Program.jacobianRunner makes one.
 */
import type { Kernels } from './compiled.js';

export class JacobianRunner {
  /** J, row-major, as the last run left it. */
  readonly jacobian: Float64Array;
  readonly method = 'one-hot';
  /** One-hot passes a run makes: a backward pass per row, or a forward pass per column. */
  readonly passes: number;

  /**
   * `inputs`: each variable's entries in the plan (in the order of Program.variables; null for one the output
   * does not read), where the caller writes a point; `value`: the output's entries in the plan, which a run
   * leaves there.
   */
  constructor(
    readonly inputs: readonly (Float64Array | null)[],
    readonly value: Float64Array,
    readonly m: number,
    readonly n: number,
    readonly mode: 'reverse' | 'forward',
    private readonly kernels: Kernels,
  ) {
    this.jacobian = new Float64Array(m * n);
    this.passes = mode === 'reverse' ? m : n;
    // Points come by the thousand: the passes are worth compiling at once.
    kernels.compileNext();
  }

  /**
   * The value and J at the point in `inputs`; false where Program.jacobian would do more than a run does (its
   * passes are not compiled yet, a result or the value is not finite: the interpreter's careful passes, a
   * warning), and the caller asks it instead, for the same numbers.
   */
  run(): boolean {
    this.kernels.forward();
    if (!this.kernels.jacobian(this.mode, this.jacobian)) return false;
    const { value } = this;
    for (let k = 0; k < value.length; k++) if (Number.isNaN(value[k]!)) return false;
    return true;
  }

  /** Whether a run can succeed: false once the program is kept interpreted (too long to compile). */
  get compiles(): boolean {
    return this.kernels.compiles;
  }
}
