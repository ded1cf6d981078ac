/**
 * The CLI's errors and the one place where errors become messages and exit codes.
 *
 * Exit codes follow docker's CLI: 0 success, 1 for a failed operation (`Error: …` on
 * stderr), 125 for bad usage (unknown flag or command, wrong arguments), printed as
 * `<problem>\nSee 'strata <command> --help'.`.
 */
import type { Writable } from "node:stream";

/** Exit codes of the `strata` command. */
export const ExitCode = {
  Success: 0,
  Failure: 1,
  Usage: 125,
} as const;

/**
 * Several failures of one command reported together, one `Error: …` line each (`rmi` and
 * `inspect` of several names go on after a failure, as docker's do).
 */
export class MultiError extends Error {
  constructor(readonly errors: readonly Error[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "MultiError";
  }
}

/** Where {@link reportError} writes and what it knows about the failing command. */
export interface ReportOptions {
  stderr: Writable;
  /** The command path (`images`, `image ls`) for the `See 'strata … --help'` hint. */
  commandPath?: string;
  /** Print stack traces of unexpected errors. */
  debug?: boolean;
}

/** Print `err` the way docker would and return the exit code for it. */
export async function reportError(err: unknown, opts: ReportOptions): Promise<number> {
  const { stderr } = opts;
  if (isUsageError(err)) {
    const hint = opts.commandPath ? `strata ${opts.commandPath} --help` : "strata --help";
    stderr.write(`${usageMessage(err)}\nSee '${hint}'.\n`);
    return ExitCode.Usage;
  }
  const errors = err instanceof MultiError ? err.errors : [err];
  for (const e of errors) {
    stderr.write(`Error: ${await describe(e)}\n`);
    if (opts.debug && e instanceof Error && !(await isExpected(e)) && e.stack) {
      stderr.write(`${e.stack}\n`);
    }
  }
  return ExitCode.Failure;
}

/**
 * clipanion's usage-type errors: `UsageError` (bad input found by a command) and the
 * syntax errors its parser raises (`UnknownSyntaxError`, `AmbiguousSyntaxError`).
 */
function isUsageError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  const meta = (err as { clipanion?: { type?: string } }).clipanion;
  return (
    meta?.type === "usage" ||
    err.name === "UnknownSyntaxError" ||
    err.name === "AmbiguousSyntaxError"
  );
}

/** clipanion words syntax errors as a list of candidate usages; keep docker's gist. */
function usageMessage(err: Error): string {
  if (err.name === "UnknownSyntaxError") {
    const { input, candidates } = err as Error & {
      input: string[];
      candidates: { usage: string; reason: string | null }[];
    };
    const reasons = [...new Set(candidates.map((c) => c.reason).filter((r): r is string => !!r))];
    if (reasons.length === 0) {
      const first = input.find((a) => !a.startsWith("-")) ?? input[0] ?? "";
      return `strata: '${first}' is not a strata command.`;
    }
    // Each alias path yields a candidate; the first reason is the one for the path typed.
    return dockerWording(reasons[0] ?? "");
  }
  if (err.name === "AmbiguousSyntaxError") return "ambiguous command line";
  return err.message;
}

/** clipanion's parser reasons in docker's words where docker has them. */
function dockerWording(reason: string): string {
  const flag = /^Unsupported option name \("(.*)"\)/.exec(reason);
  if (flag) return `unknown flag: ${flag[1]}`;
  const extra = /^Extraneous positional argument \("(.*)"\)/.exec(reason);
  if (extra) return `unexpected argument: ${extra[1]}`;
  if (/^Not enough positional arguments/.test(reason)) return "not enough arguments";
  return lowerFirst(reason.replace(/\.$/, ""));
}

/** The message of an error, with Node's system errors worded as Go's (`open x: no such file or directory`). */
async function describe(err: unknown): Promise<string> {
  if (!(err instanceof Error)) return String(err);
  const sys = err as NodeJS.ErrnoException;
  if (typeof sys.code === "string" && typeof sys.syscall === "string" && sys.path !== undefined) {
    const what = SYSCALL_NAMES[sys.syscall] ?? sys.syscall;
    const why = ERRNO_TEXT[sys.code] ?? sys.message;
    return `${what} ${sys.path}: ${why}`;
  }
  return err.message;
}

/** Errors strata raises on purpose ({@link StrataError}) need no stack trace. */
async function isExpected(err: Error): Promise<boolean> {
  const { StrataError } = await import("@strata/core");
  return err instanceof StrataError;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

const SYSCALL_NAMES: Record<string, string> = {
  open: "open",
  stat: "stat",
  lstat: "lstat",
  scandir: "open",
};
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};
