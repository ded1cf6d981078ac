import { AssertionError } from "node:assert";
import * as fs from "node:fs/promises";
import type { ErrorCode } from "../errors.js";

/**
 * Await `p` and check that it rejects with a strata error of `code` (checked by `code`,
 * so copies of core's error classes from another module instance still match).
 * @returns the error, for further checks.
 * @throws AssertionError when `p` resolves or rejects with something else.
 */
export async function expectCode(
  p: Promise<unknown>,
  code: ErrorCode,
  what: string,
): Promise<Error> {
  let result: unknown;
  try {
    result = await p;
  } catch (err) {
    const got = (err as { code?: unknown }).code;
    if (got === code) return err as Error;
    throw new AssertionError({
      message: `${what}: expected a ${code} error, got ${String(got ?? "no code")}: ${String(err)}`,
      actual: err,
      expected: code,
    });
  }
  throw new AssertionError({
    message: `${what}: expected a ${code} error, but it succeeded`,
    actual: result,
    expected: code,
  });
}

/**
 * Await `p` and check that it rejects with a system error whose `code` is one of `codes`
 * (e.g. `EROFS`).
 * @throws AssertionError otherwise.
 */
export async function expectErrno(
  p: Promise<unknown>,
  codes: string[],
  what: string,
): Promise<void> {
  try {
    await p;
  } catch (err) {
    const got = (err as NodeJS.ErrnoException).code;
    if (got !== undefined && codes.includes(got)) return;
    throw new AssertionError({
      message: `${what}: expected ${codes.join(" or ")}, got ${String(err)}`,
      actual: got,
      expected: codes,
    });
  }
  throw new AssertionError({
    message: `${what}: expected ${codes.join(" or ")}, but it succeeded`,
  });
}

/** Whether `p` exists (without following a final symlink). */
export async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}
