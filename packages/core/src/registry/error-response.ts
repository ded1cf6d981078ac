import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type StrataError,
  UnavailableError,
} from "../errors.js";

/** One entry of a registry's error body (`{"errors": [{"code", "message", "detail"}]}`). */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/** The HTTP status and error codes of a failed registry request, kept as an error's `cause`. */
export interface RegistryErrorInfo {
  status: number;
  errors: RegistryErrorEntry[];
}

/**
 * The text docker prints for a registry's error body: each entry as
 * `<code in lower case with spaces>: <message>` (distribution's `errcode.Error`), e.g.
 * `manifest unknown: manifest unknown`; the status text when the body has none.
 */
export function registryErrorText(status: number, body: string): string {
  const entries = parseErrors(body);
  if (entries.length === 0) {
    const text = body.trim();
    return text && text.length < 200 && !text.startsWith("<") ? text : statusText(status);
  }
  const one = (e: RegistryErrorEntry) =>
    `${e.code.toLowerCase().replace(/_/g, " ")}: ${e.message ?? ""}`.replace(/: $/, "");
  if (entries.length === 1) return one(entries[0]!);
  return `errors:\n${entries.map((e) => `${one(e)}\n`).join("")}`;
}

/** The error entries of a registry's response body (empty when it has none). */
export function parseErrors(body: string): RegistryErrorEntry[] {
  try {
    const json = JSON.parse(body) as { errors?: RegistryErrorEntry[] };
    return Array.isArray(json.errors) ? json.errors.filter((e) => typeof e?.code === "string") : [];
  } catch {
    return [];
  }
}

/**
 * The strata error for a failed registry request: 404 is NotFoundError, 401/403
 * FailedPreconditionError (`unauthorized: …`, `denied: …`), 5xx and 429 UnavailableError,
 * other 4xx InvalidArgumentError. The `cause` is a {@link RegistryErrorInfo}.
 * @param context prefixed to the message when given (`manifest for x not found`).
 */
export function registryError(status: number, body: string, context?: string): StrataError {
  const text = registryErrorText(status, body);
  const message = context ? `${context}: ${text}` : text;
  const cause: RegistryErrorInfo = { status, errors: parseErrors(body) };
  if (status === 404) return new NotFoundError(message, { cause });
  if (status === 401 || status === 403) return new FailedPreconditionError(message, { cause });
  if (status >= 500 || status === 429) return new UnavailableError(message, { cause });
  return new InvalidArgumentError(message, { cause });
}

/** The {@link RegistryErrorInfo} of an error made by {@link registryError}, if it is one. */
export function registryErrorInfo(err: unknown): RegistryErrorInfo | undefined {
  const cause = (err as { cause?: unknown })?.cause as RegistryErrorInfo | undefined;
  return cause && typeof cause.status === "number" && Array.isArray(cause.errors)
    ? cause
    : undefined;
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: "bad request",
    401: "unauthorized: authentication required",
    403: "denied: requested access to the resource is denied",
    404: "not found",
    405: "unsupported",
    429: "toomanyrequests: too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
  };
  return texts[status] ?? `unexpected status code ${status}`;
}
