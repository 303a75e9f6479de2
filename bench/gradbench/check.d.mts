/** GradBench's tolerance: |x − y| / max(1, |x| + |y|) must stay below it for every number. */
export declare const TOLERANCE: number;
/** undefined when `output` matches `reference` by GradBench's rule, else the first mismatch, with its path. */
export declare function checkOutput(output: unknown, reference: unknown, path?: string): string | undefined;
