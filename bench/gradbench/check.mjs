// GradBench's rule for an output against a reference: every number within
// |x − y| / max(1, |x| + |y|) < 1e-4, walking both structures together.
export const TOLERANCE = 1e-4;

/** undefined when `output` matches `reference`, else the first mismatch, with its path. */
export function checkOutput(output, reference, path = 'output') {
  if (typeof reference === 'number') {
    if (typeof output !== 'number') return `${path} is ${JSON.stringify(output)?.slice(0, 40)}, expected a number`;
    const error = Math.abs(output - reference) / Math.max(1, Math.abs(output) + Math.abs(reference));
    return error < TOLERANCE ? undefined : `${path} is ${output}, expected ${reference}`;
  }
  if (Array.isArray(reference)) {
    if (!Array.isArray(output) || output.length !== reference.length) {
      return `${path} has ${Array.isArray(output) ? output.length : 'no'} entries, expected ${reference.length}`;
    }
    for (let i = 0; i < reference.length; i++) {
      const problem = checkOutput(output[i], reference[i], `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof reference === 'object' && reference !== null) {
    if (typeof output !== 'object' || output === null || Array.isArray(output)) return `${path} is not an object`;
    for (const key of Object.keys(reference)) {
      const problem = checkOutput(output[key], reference[key], `${path}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return output === reference
    ? undefined
    : `${path} is ${JSON.stringify(output)}, expected ${JSON.stringify(reference)}`;
}
