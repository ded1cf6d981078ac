import { InvalidArgumentError } from "../errors.js";

const UNIT_NANOS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // µ (micro sign)
  "\u03bcs": 1e3, // μ (Greek mu)
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * A Go duration string (`1m30s`, `1.5h`, `300ms`, `-2s`, `0`) in nanoseconds, as Go's
 * `time.ParseDuration` reads it: what HEALTHCHECK's `--interval` and friends take.
 * @throws InvalidArgumentError with Go's wording (`time: invalid duration "x"`).
 */
export function parseGoDuration(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new InvalidArgumentError(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== "") {
    const num = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole = "", frac] = [num[1], num[2]];
    if (whole === "" && (frac === undefined || frac === "")) {
      throw new InvalidArgumentError(`time: invalid duration ${quoted}`);
    }
    rest = rest.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new InvalidArgumentError(`time: missing unit in duration ${quoted}`);
    const nanos = UNIT_NANOS[unit];
    if (nanos === undefined) {
      throw new InvalidArgumentError(
        `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`,
      );
    }
    rest = rest.slice(unit.length);
    total += Number(whole || "0") * nanos + (frac ? Number(`0.${frac}`) * nanos : 0);
  }
  if (!Number.isFinite(total) || total > 2 ** 63) {
    throw new InvalidArgumentError(`time: invalid duration ${quoted}`);
  }
  return sign * Math.round(total);
}
