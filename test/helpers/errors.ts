/** The error a library call throws, which must be a UserError (a mistake of the caller, said for people). */
import { expect } from 'vitest';
import { UserError } from '../../src/errors.js';

export function userErrorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected an error');
}
