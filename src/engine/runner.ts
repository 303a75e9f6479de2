/**
 * Results at one point after another of the same shapes (a batch's lines): what Program.jacobian, vjp, grad and
 * jvp do for compiled passes, without what they do per call besides (names looked up, a Map read, memory checks,
 * results allocated). The caller writes each point into `inputs` and reads the value and the result in place
 * until the next run. Program.jacobianRunner and Program.vectorRunner make them.
 */
import type { Kernels } from './compiled.js';

/** What a runner works on, from a prepared call: views of its plan's values, its kernels, its special points. */
export interface RunnerPlan {
  /**
   * Each variable's entries in the plan (in the order of Program.variables; null for one the output does not
   * read), where the caller writes a point.
   */
  readonly inputs: readonly (Float64Array | null)[];
  /** The output's entries in the plan, which a run leaves there. */
  readonly value: Float64Array;
  readonly kernels: Kernels;
  /** Whether the forward pass met a special point; null where none can be. */
  readonly specialPointMet: (() => boolean) | null;
}

export abstract class PointRunner {
  private ran = false;
  readonly inputs: RunnerPlan['inputs'];
  readonly value: Float64Array;
  protected readonly kernels: Kernels;
  private readonly specialPointMet: RunnerPlan['specialPointMet'];

  /** `direction`: that of the derivative passes. */
  constructor(
    { inputs, value, kernels, specialPointMet }: RunnerPlan,
    protected readonly direction: 'reverse' | 'forward',
  ) {
    this.inputs = inputs;
    this.value = value;
    this.kernels = kernels;
    this.specialPointMet = specialPointMet;
  }

  /**
   * The value and the result at the point in `inputs`; false where the program's call would do more than a run
   * does (its passes are not compiled yet, a result is not finite: the interpreter's careful passes; a NaN
   * value, a special point: warnings), and the caller makes that call instead, for the same numbers.
   */
  run(): boolean {
    // A runner's points come by the thousand: its passes are worth compiling at once, not after COMPILE_AFTER.
    if (!this.ran) this.kernels.compileNext();
    this.ran = true;
    this.kernels.forward();
    if (this.specialPointMet?.() === true || !this.derivative()) return false;
    const { value } = this;
    for (let k = 0; k < value.length; k++) if (Number.isNaN(value[k]!)) return false;
    return true;
  }

  /** Whether a run can succeed: false once the program is kept interpreted, or compiled without these passes. */
  get compiles(): boolean {
    return this.kernels.compiles(this.direction);
  }

  /** The derivative passes after the forward pass; false where the compiled ones cannot give it. */
  protected abstract derivative(): boolean;
}

/** J by one-hot passes, as Program.jacobian computes a small one. */
export class JacobianRunner extends PointRunner {
  /** J, row-major, as the last run left it. */
  readonly jacobian: Float64Array;

  constructor(
    plan: RunnerPlan,
    m: number,
    n: number,
    readonly mode: 'reverse' | 'forward',
  ) {
    super(plan, mode);
    this.jacobian = new Float64Array(m * n);
  }

  protected derivative(): boolean {
    return this.kernels.jacobian(this.mode, this.jacobian);
  }
}

/** vᵀJ (a backward pass seeded with v; ∇f with v = [1]) or J·u (a forward pass seeded with u). */
export class VectorRunner extends PointRunner {
  /** The result, as the last run left it: n entries for vᵀJ, m for J·u. */
  readonly vector: Float64Array;

  constructor(
    plan: RunnerPlan,
    direction: 'reverse' | 'forward',
    private readonly seed: Float64Array,
    entries: number,
  ) {
    super(plan, direction);
    this.vector = new Float64Array(entries);
  }

  protected derivative(): boolean {
    return this.direction === 'reverse'
      ? this.kernels.vjp(this.seed, this.vector)
      : this.kernels.jvp(this.seed, this.vector);
  }
}
