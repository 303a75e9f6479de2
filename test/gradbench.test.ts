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

describe('GradBench protocol', () => {
  it('answers start, define, evaluate and analysis with their ids, honours min_runs, and exits at end', async () => {
    const x = [0.5, 1, 2];
    const { status, responses } = await session([
      { id: 0, kind: 'start', eval: 'hello' },
      { id: 1, kind: 'define', module: 'hello' },
      { id: 2, kind: 'evaluate', module: 'hello', function: 'square', input: 3, description: 'x=3' },
      { id: 3, kind: 'analysis', of: 2, valid: true },
      { id: 4, kind: 'evaluate', module: 'hello', function: 'double', input: 3 },
      { id: 5, kind: 'define', module: 'lse' },
      { id: 6, kind: 'evaluate', module: 'lse', function: 'primal', input: { x, min_runs: 4, min_seconds: 0 } },
      { id: 7, kind: 'evaluate', module: 'lse', function: 'gradient', input: { x } },
      { id: 8, kind: 'end' },
      { id: 9, kind: 'evaluate', module: 'hello', function: 'double', input: 5 },
    ]);
    expect(status).toBe(0);
    expect(responses.map((response) => response.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
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
    const lse = Math.log(x.reduce((total, xi) => total + Math.exp(xi), 0));
    expect(checkOutput(responses[6]!.output, lse)).toBeUndefined();
    expect(
      checkOutput(
        responses[7]!.output,
        x.map((xi) => Math.exp(xi - lse)),
      ),
    ).toBeUndefined();
  });

  it('fails an eval it does not implement, answers malformed messages that carry an id with an error, and goes on', async () => {
    const { status, responses } = await session([
      { id: 0, kind: 'define', module: 'saddle' },
      { id: 1, kind: 'define', module: '../../package' },
      { id: 2, kind: 'evaluate', module: 'saddle', function: 'primal', input: {} },
      { id: 3, kind: 'define', module: 'hello' },
      '{"id": 4, "kind": "evaluate", "module": "hello"', // cut short: not JSON
      { id: 5, kind: 'launch' },
      { id: 6, kind: 'define' },
      { id: 7, kind: 'evaluate', module: 'hello', input: 2 },
      { id: 8, kind: 'evaluate', module: 'hello', function: 'square' },
      { id: 9, kind: 'evaluate', module: 'hello', function: 'square', input: 'two' },
      { id: 10, kind: 'evaluate', module: 'hello', function: 'square', input: 2 },
    ]);
    expect(status).toBe(0);
    expect(responses.map((response) => [response.id, response.success])).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, false],
      [6, false],
      [7, false],
      [8, false],
      [9, false],
      [10, true],
    ]);
    expect(responses[0]!.error).toMatch(/does not implement the eval "saddle"/);
    expect(responses[2]!.error).toMatch(/not defined/);
    expect(responses[4]!.error).toMatch(/not a JSON message/);
    expect(responses[5]!.error).toMatch(/unknown message kind "launch"/);
    expect(responses[9]!.error).toMatch(/x must be a number/);
    expect(responses[10]!.output).toBe(4);
  });

  it('stops with a message on standard error at a line without an id, and at the end of its input', async () => {
    const garbage = await session([{ id: 0, kind: 'start' }, 'not json at all', { id: 1, kind: 'start' }]);
    expect(garbage.status).toBe(1);
    expect(garbage.responses.map((response) => response.id)).toEqual([0]);
    expect(garbage.stderr).toMatch(/not a JSON message/);
    const noId = await session([{ kind: 'start' }]);
    expect(noId.status).toBe(1);
    expect(noId.stderr).toMatch(/without an integer "id"/);
    expect((await session([{ id: 0, kind: 'start' }])).status).toBe(0);
  });
});

interface FixtureLine {
  readonly function: string;
  readonly input: unknown;
  readonly output: unknown;
}

const fixtureFiles = readdirSync(FIXTURES).filter((name) => name.endsWith('.jsonl'));

/** Each fixture file's eval and cases, with the id of its define message; the cases' ids follow it. */
const fixtures = fixtureFiles.reduce<{ file: string; evalName: string; defineId: number; lines: FixtureLine[] }[]>(
  (list, file) => {
    const previous = list.at(-1);
    const lines = readFileSync(join(FIXTURES, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FixtureLine);
    const defineId = previous === undefined ? 1 : previous.defineId + previous.lines.length + 1;
    return [...list, { file, evalName: file.replace(/\.jsonl$/, ''), defineId, lines }];
  },
  [],
);

/**
 * One tool process defines each fixture's module in turn and evaluates its cases (a process per file would
 * load the library once per file); started with the file, beside the protocol sessions.
 */
const fixtureSession = session([
  { id: 0, kind: 'start', eval: 'fixtures' },
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
  { id: fixtures.reduce((next, { lines }) => next + lines.length + 1, 1), kind: 'end' },
]);

describe('GradBench evals against the saved PyTorch references', () => {
  it('has fixtures', () => {
    expect(fixtureFiles).toContain('hello.jsonl');
  });

  it.each(fixtures)('$file: every case valid', async ({ evalName, defineId, lines }) => {
    const { status, responses } = await fixtureSession;
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
