export { Tape } from './tape.js';
export { GraphBuilder, type Origin } from './builder.js';
export { printTape } from './printer.js';
