/** The library API of `jacobian`: re-exports only, no side effects. */
export {
  check,
  compile,
  CompiledExpression,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  vjp,
  type CheckOutput,
  type JacobianOutput,
  type Mode,
  type Nested,
  type Options,
  type Shape,
  type Value,
  type Values,
  type Warning,
} from './api.js';
export { InputError, LimitError, ParseError, ShapeError, UnsupportedError, UserError } from './errors.js';
