/**
 * `jacobian completion bash|zsh|fish`: the bash script is valid and completes
 * commands, flags and --format values in a bash child process; the zsh and
 * fish scripts name every command, flag, format and function.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { OUTPUT_FORMATS } from '../src/cli/options.js';
import { supportedFunctions } from '../src/parse/index.js';
import { fakeIo, runChild } from './helpers/cli.js';

const COMMANDS = ['jac', 'vjp', 'jvp', 'grad', 'hessian', 'hvp', 'check', 'spy', 'functions', 'completion', 'help'];

async function script(shell: string): Promise<string> {
  const io = fakeIo();
  expect(await main(['completion', shell], io)).toBe(0);
  expect(io.err()).toBe('');
  return io.out();
}

/** What bash's completion function offers for the words typed so far (the last one is being completed). */
function complete(bashScript: string, words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const driver = `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _jacobian; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', `${bashScript}\n${driver}`], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('bash', () => {
  it('the script is valid bash (bash -n), from the built command too', async () => {
    const text = await script('bash');
    const check = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const child = runChild(['completion', 'bash']);
    expect(child.status).toBe(0);
    expect(child.stdout).toBe(text);
  });

  it('completes commands, flags of the command, and values after --format and --mode', async () => {
    const text = await script('bash');
    expect(complete(text, ['jacobian', 'gr'])).toEqual(['grad']);
    expect(complete(text, ['jacobian', 'h'])).toEqual(['hessian', 'hvp', 'help']);
    expect(complete(text, ['jacobian', 'jac', '--fo'])).toEqual(['--format']);
    expect(complete(text, ['jacobian', 'vjp', 'x*2', '--format', 'c'])).toEqual(['csv']);
    expect(complete(text, ['jacobian', 'check', '--mode', ''])).toEqual(['auto', 'reverse', 'forward']);
    expect(complete(text, ['jacobian', 'completion', 'z'])).toEqual(['zsh']);
    expect(complete(text, ['jacobian', 'help', 'la'])).toEqual(['language']);
  });

  it("offers each command's own flags: --sparse for jac (also when jac is left out), not for vjp", async () => {
    const text = await script('bash');
    expect(complete(text, ['jacobian', '--sp'])).toEqual(['--sparse']);
    expect(complete(text, ['jacobian', 'x*2', '--sp'])).toEqual(['--sparse']);
    expect(complete(text, ['jacobian', 'vjp', '--sp'])).toEqual([]);
    expect(complete(text, ['jacobian', 'vjp', '--'])).toContain('--v');
    expect(complete(text, ['jacobian', 'check', '--t'])).toEqual(['--tol']);
  });

  it('completes function names in the expression, after what is typed before them', async () => {
    const text = await script('bash');
    expect(complete(text, ['jacobian', 'vjp', 'sin(x) + co'])).toEqual(
      ['concat', 'cos', 'cosh', 'cot', 'coth'].map((f) => `sin(x) + ${f}`),
    );
    expect(complete(text, ['jacobian', 'softm'])).toEqual(['softmax']);
  });
});

describe('zsh and fish', () => {
  it.each(['zsh', 'fish'])('the %s script names every command, flag, format and function', async (shell) => {
    const text = await script(shell);
    for (const command of COMMANDS) expect(text).toMatch(new RegExp(`\\b${command}\\b`));
    for (const flag of ['at', 'wrt', 'v', 'u', 'tol', 'svg', 'sparse', 'format', 'mode', 'json'])
      expect(text).toMatch(shell === 'zsh' ? new RegExp(`'--${flag}:`) : new RegExp(`-l ${flag} `));
    expect(text).toContain(OUTPUT_FORMATS.join(' '));
    for (const name of supportedFunctions()) expect(text).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('an unknown shell is refused with the ones there are', async () => {
    const io = fakeIo();
    expect(await main(['completion', 'powershell'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: .*powershell.*bash, zsh, fish/);
  });
});
