/**
 * What core's property-based (fast-check) tests share; used by the `*.fuzz.test.ts` files
 * only, not exported from the package.
 */
import { StrataError } from "../errors.js";

/** fast-check parameters: a fixed seed (STRATA_FUZZ_SEED explores others) and `numRuns`. */
export function fuzzParams(numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.STRATA_FUZZ_SEED ?? 11_2026), numRuns };
}

/** Run `fn`; only a typed error (a StrataError) may come out of it. */
export function typedOnly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StrataError) return undefined;
    throw err;
  }
}
