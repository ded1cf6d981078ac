/**
 * The closed set of error categories strata raises, modelled on containerd's errdefs.
 *
 * Every error carries a stable `code`; callers branch on the class (`instanceof`) or on
 * `code`, never on the message text. Messages follow `subject "name": what went wrong`,
 * e.g. `snapshot "k1": already exists`.
 */

/** Stable machine-readable codes, one per category. */
export type ErrorCode =
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION"
  | "INVALID_ARGUMENT"
  | "NOT_SUPPORTED"
  | "UNAVAILABLE";

/** Base class of every error strata raises on purpose. */
export abstract class StrataError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The named thing (image, blob, snapshot, container) does not exist. */
export class NotFoundError extends StrataError {
  readonly code = "NOT_FOUND" as const;
}

/** The named thing already exists and may not be created again. */
export class AlreadyExistsError extends StrataError {
  readonly code = "ALREADY_EXISTS" as const;
}

/** The operation is valid in general but not in the current state (e.g. remove with children). */
export class FailedPreconditionError extends StrataError {
  readonly code = "FAILED_PRECONDITION" as const;
}

/** The caller passed something malformed: a bad reference, digest, flag value or archive. */
export class InvalidArgumentError extends StrataError {
  readonly code = "INVALID_ARGUMENT" as const;
}

/** This driver, platform or kernel cannot do it; driver selection moves on to the next one. */
export class NotSupportedError extends StrataError {
  readonly code = "NOT_SUPPORTED" as const;
}

/** A resource (registry, lock, mount helper) is temporarily unreachable; retrying may help. */
export class UnavailableError extends StrataError {
  readonly code = "UNAVAILABLE" as const;
}

/** True when `err` is a {@link StrataError} of the given code. */
export function isErrorCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof StrataError && err.code === code;
}

/**
 * A container's command could not be started: not found (exit code 127) or found but not
 * executable (126), the codes docker's `run` and `exec` exit with. The container runner
 * raises it; the CLI exits with {@link CommandNotRunnableError.exitCode}.
 */
export class CommandNotRunnableError extends FailedPreconditionError {
  constructor(
    message: string,
    readonly exitCode: 126 | 127,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A Dockerfile (or a word in it) does not follow docker's Dockerfile language. The message
 * names the line as docker does (`Dockerfile parse error on line 3: unknown instruction: FRMO`)
 * when the line is known; {@link DockerfileSyntaxError.reason} is the message without it.
 */
export class DockerfileSyntaxError extends InvalidArgumentError {
  /** 1-based line of the instruction (or directive) at fault, when known. */
  readonly line: number | undefined;
  /** What is wrong, without the `Dockerfile parse error on line N: ` prefix. */
  readonly reason: string;
  constructor(reason: string, line?: number, options?: { cause?: unknown }) {
    super(
      line === undefined ? reason : `Dockerfile parse error on line ${line}: ${reason}`,
      options,
    );
    this.line = line;
    this.reason = reason;
  }
}
