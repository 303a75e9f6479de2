export { parseExpression } from './parser.js';
export { lowerExpression, type VariableInfo } from './lower.js';
export { functionCatalogue, supportedFunctions, type FunctionEntry } from './catalogue.js';
export { freeNames, indexNames, unitLikeNames } from './names.js';
export { LANGUAGE_FUNCTIONS } from './functions.js';
export { outputText } from './program.js';
