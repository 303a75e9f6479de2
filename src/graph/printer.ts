/** A readable listing of the tape, one node a line, for tests and `--debug`. */
import { describeShape } from '../shape.js';
import type { Tape } from './tape.js';

const MAX_CONSTANT_ENTRIES = 6;

export function printTape(tape: Tape): string {
  const lines: string[] = [];
  for (let id = 0; id < tape.length; id++) {
    const param = tape.param(id);
    let detail = Array.from(tape.args(id), (a) => `%${a}`).join(' ');
    if (param.kind === 'input') detail = param.name;
    if (param.kind === 'constant') {
      const shown = Array.from(param.values.subarray(0, MAX_CONSTANT_ENTRIES)).join(',');
      const { length } = param.values;
      detail = length > MAX_CONSTANT_ENTRIES ? `[${shown},…]` : length === 1 ? shown : `[${shown}]`;
    }
    if (param.kind === 'select') detail += ` {${param.map.to.length} entries}`;
    lines.push(`%${id} = ${tape.op(id)} ${detail} : ${describeShape(tape.shape(id))}`.replace('  ', ' '));
  }
  return lines.join('\n');
}
