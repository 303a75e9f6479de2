/**
 * The GradBench tool (bench/gradbench/tool.mjs) as GradBench runs it: a child process
 * reading JSON lines. Its standard input is closed after the messages, so a tool that
 * waited for more would show as the child's timeout. Every fixture file of
 * fixtures/gradbench/ runs through it and is checked with GradBench's rule.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutput, TOLERANCE } from '../bench/gradbench/check.mjs';
import { ROOT } from './helpers/cli.js';

const TOOL = join(ROOT, 'bench', 'gradbench', 'tool.mjs');
const FIXTURES = join(ROOT, 'fixtures', 'gradbench');

interface Timing {
  readonly name: string;
  readonly nanoseconds: number;
}
interface Response {
  readonly id: number;
  readonly tool?: string;
  readonly success?: boolean;
  readonly output?: unknown;
  readonly timings?: readonly Timing[];
  readonly error?: string;
}
interface Session {
  readonly status: number | null;
  readonly responses: readonly Response[];
  readonly stderr: string;
}

/**
 * Sends the lines (objects as JSON, strings as they are), closes standard input and reads every answer.
 * Asynchronous, so that the files' sessions run side by side.
 */
function session(lines: readonly (object | string)[]): Promise<Session> {
  const input = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';
  const child = spawn(process.execPath, [TOOL], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      const responses = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Response);
      resolve({ status, responses, stderr });
    });
  });
}

const evaluateTimings = (response: Response | undefined) =>
  (response?.timings ?? []).filter((timing) => timing.name === 'evaluate');

describe('GradBench rule', () => {
  it('accepts differences within the tolerance, relative above 1 and absolute below, and nothing else', () => {
    expect(checkOutput([1, [2, 3]], [1, [2, 3 + 1e-5]])).toBeUndefined();
    expect(checkOutput(1e6, 1e6 * (1 + TOLERANCE))).toBeUndefined();
    expect(checkOutput(1e6, 1e6 * (1 + 3 * TOLERANCE))).toMatch(/output is 1000000, expected/);
    expect(checkOutput(0, 2 * TOLERANCE)).toMatch(/expected/);
    expect(checkOutput([1, 2], [1, 2, 3])).toMatch(/2 entries, expected 3/);
    expect(checkOutput({ a: [1] }, { a: 1 })).toMatch(/output\.a is \[1\], expected a number/);
  });
});

/** The malformed and unimplemented messages (ids from 100), answered in the protocol session before its end. */
const MALFORMED: readonly (object | string)[] = [
  { id: 100, kind: 'define', module: 'saddle' },
  { id: 101, kind: 'define', module: '../../package' },
  { id: 102, kind: 'evaluate', module: 'saddle', function: 'primal', input: {} },
  { id: 103, kind: 'define', module: 'hello' },
  '{"id": 104, "kind": "evaluate", "module": "hello"', // cut short: not JSON
  { id: 105, kind: 'launch' },
  { id: 106, kind: 'define' },
  { id: 107, kind: 'evaluate', module: 'hello', input: 2 },
  { id: 108, kind: 'evaluate', module: 'hello', function: 'square' },
  { id: 109, kind: 'evaluate', module: 'hello', function: 'square', input: 'two' },
  { id: 110, kind: 'evaluate', module: 'hello', function: 'square', input: 2 },
];

/** lse's point in the protocol session. */
const LSE_X = [0.5, 1, 2];
/** The ids of the fixtures' messages start here, after the protocol's well-formed (0 to 9) and malformed (100 to 110). */
const FIXTURE_IDS = 1000;

interface FixtureLine {
  readonly function: string;
  readonly input: unknown;
  readonly output: unknown;
}

const fixtureFiles = readdirSync(FIXTURES).filter((name) => name.endsWith('.jsonl'));

/** Each fixture file's eval and cases, with the id of its define message (from FIXTURE_IDS); the cases' ids follow it. */
const fixtures = fixtureFiles.reduce<{ file: string; evalName: string; defineId: number; lines: FixtureLine[] }[]>(
  (list, file) => {
    const previous = list.at(-1);
    const lines = readFileSync(join(FIXTURES, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FixtureLine);
    const defineId = previous === undefined ? FIXTURE_IDS : previous.defineId + previous.lines.length + 1;
    return [...list, { file, evalName: file.replace(/\.jsonl$/, ''), defineId, lines }];
  },
  [],
);

/**
 * One tool process for the protocol tests and the fixtures (each start of the tool with the library costs about a
 * second of processor time): the well-formed messages, the malformed ones, each fixture's module defined in turn
 * with its cases, then end and a message after it. Started with the file.
 */
const toolSession = session([
  { id: 0, kind: 'start', eval: 'hello' },
  { id: 1, kind: 'define', module: 'hello' },
  { id: 2, kind: 'evaluate', module: 'hello', function: 'square', input: 3, description: 'x=3' },
  { id: 3, kind: 'analysis', of: 2, valid: true },
  { id: 4, kind: 'evaluate', module: 'hello', function: 'double', input: 3 },
  { id: 5, kind: 'define', module: 'lse' },
  { id: 6, kind: 'evaluate', module: 'lse', function: 'primal', input: { x: LSE_X, min_runs: 4, min_seconds: 0 } },
  { id: 7, kind: 'evaluate', module: 'lse', function: 'gradient', input: { x: LSE_X } },
  ...MALFORMED,
  ...fixtures.flatMap(({ evalName, defineId, lines }) => [
    { id: defineId, kind: 'define', module: evalName },
    ...lines.map((line, i) => ({
      id: defineId + 1 + i,
      kind: 'evaluate',
      module: evalName,
      function: line.function,
      input: line.input,
    })),
  ]),
  { id: 8, kind: 'end' },
  { id: 9, kind: 'evaluate', module: 'hello', function: 'double', input: 5 },
]);

describe('GradBench protocol', () => {
  it('answers start, define, evaluate and analysis with their ids, honours min_runs, and exits at end', async () => {
    const { status, responses: all } = await toolSession;
    // Every message before end is answered, in order; the one after it is not.
    const fixtureIds = fixtures.flatMap(({ defineId, lines }) => [defineId, ...lines.map((_, i) => defineId + 1 + i)]);
    expect(all.map((response) => response.id)).toEqual([
      ...[0, 1, 2, 3, 4, 5, 6, 7],
      ...MALFORMED.map((_, k) => 100 + k),
      ...fixtureIds,
    ]);
    const responses = all.slice(0, 8);
    expect(status).toBe(0);
    expect(responses[0]).toEqual({ id: 0, tool: 'jacobian' });
    expect(responses[1]).toMatchObject({ id: 1, success: true });
    expect(responses[2]).toMatchObject({ id: 2, success: true, output: 9 });
    expect(responses[3]).toEqual({ id: 3 });
    expect(responses[4]).toMatchObject({ id: 4, success: true, output: 6 });
    const timings = responses[2]!.timings!;
    expect(timings.map((timing) => timing.name)).toEqual(['prepare', 'evaluate']);
    expect(timings.every((timing) => Number.isInteger(timing.nanoseconds) && timing.nanoseconds >= 0)).toBe(true);
    // The run fields are the tool's: the eval sees only x (an unknown field would fail its compile).
    expect(evaluateTimings(responses[6])).toHaveLength(4);
    expect(evaluateTimings(responses[7])).toHaveLength(1);
    const lse = Math.log(LSE_X.reduce((total, xi) => total + Math.exp(xi), 0));
    expect(checkOutput(responses[6]!.output, lse)).toBeUndefined();
    expect(
      checkOutput(
        responses[7]!.output,
        LSE_X.map((xi) => Math.exp(xi - lse)),
      ),
    ).toBeUndefined();
  });

  it('fails an eval it does not implement, answers malformed messages that carry an id with an error, and goes on', async () => {
    const { status, responses: all } = await toolSession;
    const responses = all.slice(8, 8 + MALFORMED.length);
    expect(status).toBe(0);
    expect(responses.map((response) => [response.id, response.success])).toEqual([
      [100, false],
      [101, false],
      [102, false],
      [103, true],
      [104, false],
      [105, false],
      [106, false],
      [107, false],
      [108, false],
      [109, false],
      [110, true],
    ]);
    expect(responses[0]!.error).toMatch(/does not implement the eval "saddle"/);
    expect(responses[2]!.error).toMatch(/not defined/);
    expect(responses[4]!.error).toMatch(/not a JSON message/);
    expect(responses[5]!.error).toMatch(/unknown message kind "launch"/);
    expect(responses[9]!.error).toMatch(/x must be a number/);
    expect(responses[10]!.output).toBe(4);
  });

  it('stops with a message on standard error at a line without an id, and at the end of its input', async () => {
    const [garbage, noId, startOnly] = await Promise.all([
      session([{ id: 0, kind: 'start' }, 'not json at all', { id: 1, kind: 'start' }]),
      session([{ kind: 'start' }]),
      session([{ id: 0, kind: 'start' }]),
    ]);
    expect(garbage.status).toBe(1);
    expect(garbage.responses.map((response) => response.id)).toEqual([0]);
    expect(garbage.stderr).toMatch(/not a JSON message/);
    expect(noId.status).toBe(1);
    expect(noId.stderr).toMatch(/without an integer "id"/);
    expect(startOnly.status).toBe(0);
  });
});

describe('GradBench evals against the saved PyTorch references', () => {
  it('has fixtures', () => {
    expect(fixtureFiles).toContain('hello.jsonl');
  });

  it.each(fixtures)('$file: every case valid', async ({ evalName, defineId, lines }) => {
    const { status, responses } = await toolSession;
    expect(status).toBe(0);
    const byId = new Map(responses.map((response) => [response.id, response]));
    expect(byId.get(defineId)).toMatchObject({ success: true });
    lines.forEach((line, i) => {
      const id = defineId + 1 + i;
      const response = byId.get(id);
      expect(response, `${evalName} case ${i + 1} (${line.function})`).toMatchObject({ id, success: true });
      expect(
        checkOutput(response!.output, line.output),
        `${evalName} case ${i + 1} (${line.function})`,
      ).toBeUndefined();
    });
  });
});
