/** What a command computed, as the formatters receive it: plain data, no behaviour. */
import type { Shape } from '../shape.js';
import type { Tensor } from '../values.js';

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
  /** J is m×n. */
  readonly m: number;
  readonly n: number;
}

export interface JacobianReport extends ReportBase {
  readonly command: 'jacobian';
  /** Row-major m×n. */
  readonly jacobian: Float64Array;
}

export interface VjpReport extends ReportBase {
  readonly command: 'vjp';
  readonly v: Float64Array;
  readonly vjp: Float64Array;
}

export type Report = JacobianReport | VjpReport;
