export { Tape } from './tape.js';
export { GraphBuilder } from './builder.js';
export { printTape } from './printer.js';
