/** What a command computed, as the formatters receive it: plain data, no behaviour. */
import type { CheckResult } from '../engine/check.js';
import type { Ordering } from '../engine/colouring.js';
import type { DiagonalJacobian } from '../engine/diagonal.js';
import type { SparseJacobian } from '../engine/sparsity.js';
import type { KinkWarning } from '../engine/special.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../values.js';

export type { DiagonalJacobian, KinkWarning, SparseJacobian };

export interface Binding {
  readonly name: string;
  readonly value: Tensor;
}

export interface ReportBase {
  readonly expr: string;
  /** Every bound variable with its value, in `--at` order. */
  readonly at: readonly Binding[];
  /** The differentiated variables: the columns of J, in order. */
  readonly wrt: readonly string[];
  readonly inputs: readonly { readonly name: string; readonly shape: Shape }[];
  readonly value: Tensor;
  /** The expression as headers show it: a program's last statement, on one line. */
  readonly title: string;
  /** J is m×n. */
  readonly m: number;
  readonly n: number;
  /** The kink report. */
  readonly warnings: readonly KinkWarning[];
}

/** A matrix result with how it was accumulated: the Jacobian, or the Hessian (the Jacobian of ∇f). */
export interface MatrixReport extends ReportBase {
  readonly command: 'jacobian' | 'hessian';
  /**
   * Dense row-major (m×n for the Jacobian, n×n for the Hessian), a diagonal one as its diagonal (dense by meaning:
   * formatted as the dense one, read through format/dense.ts), or sparse with --sparse (n×n for H).
   */
  readonly matrix: Float64Array | DiagonalJacobian | SparseJacobian;
  readonly mode: 'reverse' | 'forward';
  /** One pass per one-hot seed, every seed in one block pass, or one compressed pass per colour. */
  readonly method: 'one-hot' | 'block' | 'colored';
  readonly passes: number;
  /** With --sparse: the colours of the compression (the passes). */
  readonly colours?: number;
  /** With --sparse: the least colours any colouring of its kind can have (colours equal to it are optimal). */
  readonly lowerBound?: number;
  /** With --sparse: the vertex order of the colouring kept. */
  readonly ordering?: Ordering;
}

/** A vector result: vᵀJ (n), J·u (m), ∇f (n) or H·u (n), with its seed. */
export interface VectorReport extends ReportBase {
  readonly command: 'vjp' | 'jvp' | 'grad' | 'hvp';
  readonly seed: Float64Array | null;
  readonly vector: Float64Array;
}

/** The result of `check` (errors, worst entry, verdict) with the automatic Jacobian. */
export interface CheckReport extends ReportBase, Omit<CheckResult, 'automatic'> {
  readonly command: 'check';
  readonly jacobian: Float64Array;
}

export type Report = MatrixReport | VectorReport | CheckReport;
