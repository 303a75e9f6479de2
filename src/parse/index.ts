export { parseExpression } from './parser.js';
export {
  functionCatalogue,
  lowerExpression,
  supportedFunctions,
  UnboundNameError,
  type FunctionEntry,
  type VariableInfo,
} from './lower.js';
export { freeNames, indexNames, unitLikeNames } from './names.js';
export { LANGUAGE_FUNCTIONS } from './functions.js';
