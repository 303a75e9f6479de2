/**
 * The commands: each resolves its request, computes, and returns the report
 * with the exit status it calls for. Printing is the caller's job.
 */
import { checkDirections, checkJacobian, DEFAULT_TOLERANCE } from '../engine/check.js';
import { emitProgram } from '../engine/emit.js';
import type { Ordering } from '../engine/colouring.js';
import { guardMemory, type DerivativeOptions } from '../engine/program.js';
import { InputError, LimitError } from '../errors.js';
import { isSparse } from '../format/dense.js';
import { formatAhead, prepareNumberHelper } from '../format/shared-numbers.js';
import type { MatrixReport, Report, ReportBase, VectorReport } from '../format/report.js';
import { outputText } from '../parse/index.js';
import { sizeOf } from '../shape.js';
import { tensorFromJson } from '../values.js';
import { parseNumberList, splitBinding } from './bindings.js';
import type { Io } from './io.js';
import { isNumpyFormat, outputFormatOf, type OutputOptions } from './options.js';
import { writeChunks } from './output-stream.js';
import { Progress } from './progress.js';
import { requireFinite, resolveRequest, type CommonOptions, type Request } from './request.js';

/** Dense results up to this many entries are printed: more would be gigabytes of text, past V8's longest string. */
const MAX_PRINTED_ENTRIES = 2 ** 25;

export type CommandName = 'jacobian' | 'vjp' | 'jvp' | 'grad' | 'hessian' | 'hvp' | 'check' | 'spy';

export interface Outcome {
  readonly report: Report;
  /** 0, or 1 for a failed check or, under --strict, a warning. */
  readonly status: number;
}

/** What --stats prints, but the time of formatting and the total, which the caller adds. */
export interface Stats {
  readonly command: CommandName;
  readonly mode?: string;
  readonly method?: string;
  readonly passes?: number;
  readonly nonzeros?: number;
  readonly colours?: number;
  readonly lowerBound?: number;
  readonly ordering?: Ordering;
  readonly m: number;
  readonly n: number;
  readonly nodes: number;
  readonly ms: Record<string, number>;
}

/** The last expression's title: a batch asks for it at every point, and a program's takes a scan. */
let lastTitle = { expr: '', title: '' };
function titleOf(expr: string): string {
  if (lastTitle.expr !== expr) lastTitle = { expr, title: outputText(expr) };
  return lastTitle.title;
}

/**
 * The fields every report has. Each command's report is one object literal with these and its own (a batch
 * makes one per point: spreading one object into another takes V8's slow path).
 */
function base(request: Omit<Request, 'ms'>, value: Float64Array, warnings: ReportBase['warnings']): ReportBase {
  const { program } = request;
  return {
    expr: request.expr,
    title: titleOf(request.expr),
    at: request.bindings,
    wrt: request.wrt,
    inputs: request.wrt.map((name) => program.variable(name)),
    value: { shape: program.outputShape, data: value },
    m: program.m,
    n: program.columns(request.wrt),
    warnings,
  };
}

/**
 * A vector flag's numbers (a list, or nested arrays in the output's or the
 * inputs' shape, read row-major), or the same field of the piped JSON when
 * the flag is absent.
 */
function vectorOption(flag: string | undefined, piped: unknown, name: string, options: OutputOptions): Float64Array {
  let seed: Float64Array;
  if (flag !== undefined) seed = seedNumbers(flag, name);
  else if (piped !== undefined) seed = flatNumbers(piped, `${name} on standard input`);
  else throw new InputError(`${name} is required: give numbers, as ${name} 0.1,1,0.0001`);
  requireFinite(seed, name, options);
  return seed;
}

function seedNumbers(text: string, name: string): Float64Array {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      return flatNumbers(JSON.parse(trimmed), name);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return parseNumberList(trimmed.replace(/^\[|\]$/g, ''), name);
}

/** Numbers of nested arrays of any depth, row-major. */
function flatNumbers(value: unknown, what: string): Float64Array {
  if (!Array.isArray(value) || !value.some((entry) => Array.isArray(entry) && entry.some(Array.isArray)))
    return tensorFromJson(value, what).data;
  return Float64Array.from(value.flatMap((entry: unknown) => Array.from(flatNumbers(entry, what))));
}

/**
 * --u as one list, or as NAME=… for each differentiated variable (each in
 * the variable's shape), joined in the order of the columns.
 */
function tangentOption(flags: readonly string[] | undefined, request: Omit<Request, 'ms'>, options: OutputOptions) {
  if (flags === undefined || flags.length === 0) return vectorOption(undefined, request.piped.u, '--u', options);
  const named = flags.map((flag) => splitBinding(flag, '--u'));
  if (named.every((binding) => binding.name === null)) {
    if (flags.length > 1) throw new InputError('--u is given twice: give one list, or --u NAME=… for each variable');
    return vectorOption(flags[0], undefined, '--u', options);
  }
  const byName = new Map<string, Float64Array>();
  named.forEach(({ name, text }, k) => {
    if (name === null) throw new InputError(`--u ${flags[k]} has no name: with several --u, write --u NAME=… for each`);
    if (!request.wrt.includes(name))
      throw new InputError(
        `--u ${name}=…: ${name} is not differentiated (the variables are ${request.wrt.join(', ')})`,
      );
    if (byName.has(name)) throw new InputError(`--u ${name}=… is given twice`);
    byName.set(name, seedNumbers(text, `--u ${name}`));
  });
  const parts = request.wrt.map((name) => {
    const part = byName.get(name);
    if (part === undefined)
      throw new InputError(`--u has no entry for ${name}: add --u ${name}=…, or leave it out with --wrt`);
    const size = sizeOf(request.program.variable(name).shape);
    if (part.length !== size) throw new InputError(`--u ${name} has ${part.length} numbers, but ${name} has ${size}`);
    return part;
  });
  const seed = new Float64Array(parts.reduce((total, part) => total + part.length, 0));
  parts.reduce((offset, part) => (seed.set(part, offset), offset + part.length), 0);
  requireFinite(seed, '--u', options);
  return seed;
}

/** What a single command's computation tells as it goes (the engine's callbacks of DerivativeOptions). */
type ComputeHooks = Pick<DerivativeOptions, 'onProgress' | 'onCoordinates'>;

/**
 * `structured`: the report may hold a diagonal J (or H) as its diagonal, for the formatters, which read it through
 * format/dense.ts; a batch's line writers take dense ones, and a small batch point has no n² zeros to save.
 */
export function compute(
  command: CommandName,
  request: Omit<Request, 'ms'>,
  options: OutputOptions,
  hooks: ComputeHooks = {},
  structured = false,
): Outcome {
  const { program, point, wrt } = request;
  const mode = options.mode ?? 'auto';
  const derivativeOptions: DerivativeOptions = { mode, maxMemoryBytes: options.maxMemory, ...hooks };
  switch (command) {
    case 'jacobian':
    case 'hessian':
    case 'spy': {
      // spy draws the pattern of the sparse Jacobian; its report is that of jac --sparse.
      if (command === 'spy' || options.sparse === true) {
        const result =
          command === 'hessian'
            ? program.sparseHessian(point, wrt, derivativeOptions)
            : program.sparseJacobian(point, wrt, derivativeOptions);
        const b = base(request, result.value, result.warnings);
        const sparse = { colours: result.colours, lowerBound: result.lowerBound, ordering: result.ordering };
        return outcome(matrixReport(command === 'hessian' ? 'hessian' : 'jacobian', b, result, sparse), options);
      }
      const n = program.columns(wrt);
      const entries = command === 'hessian' ? n * n : program.m * n;
      const what = command === 'hessian' ? `the ${n}×${n} Hessian` : `the ${program.m}×${n} Jacobian`;
      // Memory first (it says how much), then whether the text could be printed at all (NumPy's files are no text).
      guardMemory(entries, what, derivativeOptions, command === 'hessian' ? 'hessian' : 'jacobian');
      if (entries > MAX_PRINTED_ENTRIES && !isNumpyFormat(options.format)) {
        const instead = command === 'hessian' ? '--sparse or hvp' : '--sparse, vjp or jvp';
        throw new LimitError(
          `${what} has ${entries} entries, too many to print (gigabytes of text): use ${instead}, or --format npy`,
        );
      }
      const result =
        command === 'hessian'
          ? structured
            ? program.structuredHessian(point, wrt, derivativeOptions)
            : program.hessian(point, wrt, derivativeOptions)
          : structured
            ? program.structuredJacobian(point, wrt, derivativeOptions)
            : program.jacobian(point, wrt, derivativeOptions);
      const b = base(request, result.value, result.warnings);
      return outcome(matrixReport(command, b, result, null), options);
    }
    case 'vjp': {
      const v = vectorOption(options.v, request.piped.v, '--v', options);
      const result = program.vjp(point, v, wrt, derivativeOptions);
      return outcome(vectorReport(command, base(request, result.value, result.warnings), v, result.vjp), options);
    }
    case 'jvp':
    case 'hvp': {
      const u = tangentOption(options.u, request, options);
      const result =
        command === 'jvp'
          ? program.jvp(point, u, wrt, derivativeOptions)
          : program.hvp(point, u, wrt, derivativeOptions);
      const vector = 'jvp' in result ? result.jvp : result.hvp;
      return outcome(vectorReport(command, base(request, result.value, result.warnings), u, vector), options);
    }
    case 'grad': {
      const result = program.grad(point, wrt, derivativeOptions);
      return outcome(vectorReport(command, base(request, result.value, result.warnings), null, result.grad), options);
    }
    case 'check': {
      const tol = options.tol ?? DEFAULT_TOLERANCE;
      const result =
        options.directions === undefined
          ? checkJacobian(program, point, wrt, tol, derivativeOptions)
          : checkDirections(program, point, wrt, options.directions, tol, derivativeOptions);
      const { automatic, ...rest } = result;
      // Along directions, the compared arrays are m × directions.
      const report: Report = {
        command,
        ...base(request, automatic.value, automatic.warnings),
        ...rest,
        n: automatic.n,
        jacobian: automatic.jacobian,
      };
      return { report, status: result.agree && !(options.strict === true && automatic.warnings.length > 0) ? 0 : 1 };
    }
  }
}

/** How a J or H was computed, as the engine reports it. */
interface Accumulation {
  readonly jacobian: MatrixReport['matrix'];
  readonly mode: MatrixReport['mode'];
  readonly method: MatrixReport['method'];
  readonly passes: number;
}

/**
 * A J or H report. Its fields are set one by one, as in vectorReport: a spread followed by more fields takes
 * V8's slow path, once per point of a batch.
 */
export function matrixReport(
  command: MatrixReport['command'],
  b: ReportBase,
  result: Accumulation,
  sparse: { readonly colours: number; readonly lowerBound: number; readonly ordering: Ordering } | null,
): MatrixReport {
  const report = {
    command,
    expr: b.expr,
    title: b.title,
    at: b.at,
    wrt: b.wrt,
    inputs: b.inputs,
    value: b.value,
    m: b.m,
    n: b.n,
    warnings: b.warnings,
    matrix: result.jacobian,
    mode: result.mode,
    method: result.method,
    passes: result.passes,
  };
  return sparse === null ? report : Object.assign(report, sparse);
}

export function vectorReport(
  command: VectorReport['command'],
  b: ReportBase,
  seed: Float64Array | null,
  vector: Float64Array,
): VectorReport {
  return {
    command,
    expr: b.expr,
    title: b.title,
    at: b.at,
    wrt: b.wrt,
    inputs: b.inputs,
    value: b.value,
    m: b.m,
    n: b.n,
    warnings: b.warnings,
    seed,
    vector,
  };
}

function outcome(report: Report, options: OutputOptions): Outcome {
  return { report, status: options.strict === true && report.warnings.length > 0 ? 1 : 0 };
}

export async function runCommand(
  command: CommandName,
  expr: string | undefined,
  options: OutputOptions,
  io: Io,
): Promise<Outcome & { readonly stats: Stats }> {
  const request = await resolveRequest(expr, options, io);
  const json = outputFormatOf(options) === 'json';
  // The value and the derivative have at least the output's and the variables' numbers.
  if (json) prepareNumberHelper(Math.max(request.program.m, request.program.columns(request.wrt)));
  const start = performance.now();
  const progress = new Progress(io, command === 'jacobian' ? 'computing J' : `computing ${command}`);
  const onProgress = (done: number, total: number) => progress.update(done, total, 'passes');
  // A sparse result's rows and columns, which its JSON holds as they are, are formatted while its values are found.
  const onCoordinates = (rows: Int32Array, cols: Int32Array): void => {
    formatAhead(rows);
    formatAhead(cols);
  };
  const result = compute(command, request, options, json ? { onProgress, onCoordinates } : { onProgress }, true);
  progress.finish();
  const { report } = result;
  const { timings } = request.program;
  const matrix = report.command === 'jacobian' || report.command === 'hessian' ? report : null;
  const sparse = matrix === null || !isSparse(matrix.matrix) ? null : matrix.matrix;
  const ms: Record<string, number> = {
    read: request.ms.read,
    parse: request.ms.parse,
    compile: request.ms.compile,
    forward: timings.forward,
    derivative: timings.derivative,
    warnings: timings.warnings,
    engine: performance.now() - start,
  };
  const stats: Stats = {
    command,
    ...(matrix === null ? {} : { mode: matrix.mode, method: matrix.method, passes: matrix.passes }),
    ...(sparse === null || matrix === null
      ? {}
      : {
          nonzeros: sparse.values.length,
          colours: matrix.colours,
          lowerBound: matrix.lowerBound,
          ordering: matrix.ordering,
        }),
    m: report.m,
    n: report.n,
    nodes: request.program.tapeLength,
    ms,
  };
  return { report: result.report, status: result.status, stats };
}

/** The options of `jacobian emit`: the point (for the shapes), the variables, the file, the limits. */
export interface EmitOptions extends CommonOptions {
  readonly output?: string;
  readonly maxMemory?: number;
}

/**
 * `jacobian emit`: the program's value and derivative passes at the shapes of --at, as a standalone ES module,
 * written to standard output or to -o FILE.
 */
export async function runEmit(expr: string | undefined, options: EmitOptions, io: Io): Promise<void> {
  const { program, point, wrt } = await resolveRequest(expr, options, io);
  const limits = options.maxMemory === undefined ? {} : { maxMemoryBytes: options.maxMemory };
  const source = emitProgram(program, point, wrt, limits);
  if (options.output === undefined) await writeChunks(io, [source]);
  else if (io.writeFile === undefined) throw new InputError('-o needs a file system to write to');
  else io.writeFile(options.output, source);
}
