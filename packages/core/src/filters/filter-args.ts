/**
 * docker's `--filter key=value` arguments (moby's `api/types/filters.Args`) and the time
 * values its `until`, `since` and `before` filters take (moby's `timetypes`).
 */
import { InvalidArgumentError } from "../errors.js";

/** moby's `invalidFilter` error: `invalid filter 'dangling=maybe'`. */
export function invalidFilter(name: string, values?: readonly string[]): InvalidArgumentError {
  const shown = values === undefined ? name : `${name}=${values.join(",")}`;
  return new InvalidArgumentError(`invalid filter '${shown}'`);
}

/**
 * A set of filters: each key has a set of values (`label=a`, `label=b` → `label: {a, b}`).
 * Values of one key are alternatives or conjunctions depending on the key, as in docker.
 */
export class FilterArgs {
  private readonly fields = new Map<string, Set<string>>();

  /**
   * Parse `--filter` flag values (`key=value`, key lower-cased, both trimmed).
   * @throws InvalidArgumentError `bad format of filter (expected name=value)`.
   */
  static parse(args: readonly string[]): FilterArgs {
    const f = new FilterArgs();
    for (const arg of args) {
      if (arg === "") continue;
      const eq = arg.indexOf("=");
      if (eq < 0) throw new InvalidArgumentError("bad format of filter (expected name=value)");
      f.add(arg.slice(0, eq).trim().toLowerCase(), arg.slice(eq + 1).trim());
    }
    return f;
  }

  /** Add a value to a key. Returns this. */
  add(key: string, value: string): this {
    let set = this.fields.get(key);
    if (!set) {
      set = new Set();
      this.fields.set(key, set);
    }
    set.add(value);
    return this;
  }

  /** A copy of these filters. */
  clone(): FilterArgs {
    const f = new FilterArgs();
    for (const [k, vs] of this.fields) for (const v of vs) f.add(k, v);
    return f;
  }

  /** The values of a key (empty when absent). */
  get(key: string): string[] {
    return [...(this.fields.get(key) ?? [])];
  }

  /** Whether the key was given. */
  contains(key: string): boolean {
    return this.fields.has(key);
  }

  /** Number of keys. */
  get size(): number {
    return this.fields.size;
  }

  /** Keys given, in the order first seen. */
  keys(): string[] {
    return [...this.fields.keys()];
  }

  /**
   * Fail on a key that is not `accepted`.
   * @throws InvalidArgumentError `invalid filter 'key'`.
   */
  validate(accepted: readonly string[]): void {
    for (const k of this.fields.keys()) if (!accepted.includes(k)) throw invalidFilter(k);
  }

  /**
   * moby's `MatchKVList`: every `key` value (`name` or `name=value`) must be in `labels`
   * (with that value). True when the key was not given.
   */
  matchKVList(key: string, labels: Readonly<Record<string, string>> | null | undefined): boolean {
    const values = this.fields.get(key);
    if (!values || values.size === 0) return true;
    if (!labels || Object.keys(labels).length === 0) return false;
    for (const v of values) {
      const eq = v.indexOf("=");
      const name = eq < 0 ? v : v.slice(0, eq);
      if (!Object.hasOwn(labels, name)) return false;
      if (eq >= 0 && labels[name] !== v.slice(eq + 1)) return false;
    }
    return true;
  }

  /**
   * moby's `GetBoolOrDefault`: `1 true True TRUE` or `0 false False FALSE`.
   * @throws InvalidArgumentError `invalid filter 'key=value'` for anything else or both.
   */
  getBool(key: string, fallback: boolean): boolean {
    const values = this.fields.get(key);
    if (!values) return fallback;
    const isFalse = ["0", "false", "False", "FALSE"].some((v) => values.has(v));
    const isTrue = ["1", "true", "True", "TRUE"].some((v) => values.has(v));
    if (isFalse === isTrue) throw invalidFilter(key, [...values]);
    return isTrue;
  }
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's `time.ParseDuration` in milliseconds (`1h30m`, `-2.5s`), or undefined. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return s === "0" || s === "+0" || s === "-0" ? 0 : undefined;
  let total = 0;
  for (const part of (m[2] ?? "").matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ""] ?? 0);
  }
  return m[1] === "-" ? -total : total;
}

/**
 * A filter's time value as moby's `timetypes.GetTimestamp` reads it: a Go duration before
 * `now` (`24h`), Unix seconds (`1700000000`, `1700000000.5`), or an RFC 3339 date or
 * date-time (`2024-01-31`, `2024-01-31T10:00`, `2024-01-31T10:00:00Z`; local time when no
 * zone is given).
 * @throws InvalidArgumentError `failed to parse value as time or duration: "x"`.
 */
export function parseFilterTime(value: string, now: Date = new Date()): Date {
  const d = value !== "0" ? parseGoDuration(value) : undefined;
  if (d !== undefined) return new Date(now.getTime() - d);
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(
      value,
    );
  if (m) {
    const [, y, mo, da, h = "0", mi = "0", se = "0", frac = "", zone] = m;
    const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
    const fields = [
      Number(y),
      Number(mo) - 1,
      Number(da),
      Number(h),
      Number(mi),
      Number(se),
      ms,
    ] as const;
    if (!zone) return new Date(...fields);
    const utc = Date.UTC(...fields);
    if (zone === "Z" || zone === "z") return new Date(utc);
    const sign = zone.startsWith("-") ? -1 : 1;
    const offset = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    return new Date(utc - sign * offset * 60_000);
  }
  throw new InvalidArgumentError(`failed to parse value as time or duration: "${value}"`);
}
