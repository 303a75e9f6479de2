/** The PyTorch reference cases, from fixtures/torch-cases.jsonl (a copy of the shared oracle). */
import { readFileSync } from 'node:fs';

export interface OracleCase {
  id: string;
  expr: string;
  at: Record<string, unknown>;
  wrt: string[];
  value: number[];
  m: number;
  n: number;
  jacobian: number[][];
  v: number[];
  vjp: number[];
  u: number[];
  jvp: number[];
  hessian?: number[][];
}

export const ORACLE: OracleCase[] = readFileSync(new URL('../../fixtures/torch-cases.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as OracleCase);
