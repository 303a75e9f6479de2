export { parseExpression } from './parser.js';
export { lowerExpression, supportedFunctions, UnboundNameError, type VariableInfo } from './lower.js';
export { freeNames, indexNames, unitLikeNames } from './names.js';
export { LANGUAGE_FUNCTIONS } from './functions.js';
