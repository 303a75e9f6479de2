export { OPS, OP_NAMES, OP_CODE } from './table.js';
export { NO_PARAM } from './types.js';
export type {
  Builder,
  IndexMap,
  NodeId,
  NodeView,
  Operand,
  OpName,
  OpSpec,
  Param,
  Partial,
  PieceReduction,
  SpecialKind,
  SpecialPoint,
} from './types.js';
export { addMap, addRun, runsOf, runsUpTo } from './structural.js';
export { NO_EXTREME, tieShare, tiesWith } from './extremes.js';
export { SUM_BLOCK, sumInBlocks, sumOfEntries } from './sums.js';
export { timesZeroInPieces, timesZeroSum } from './finite.js';
export { EXP_STEP_HEAD, EXP_STEP_TAIL, EXP_STEPS_PER_UNIT, EXP_TABLE_HEADS, EXP_TABLE_TAILS } from './exp-table.js';
export { EXP_ROUNDING_SHIFT, EXP_TABLE_BELOW } from './elementwise.js';
