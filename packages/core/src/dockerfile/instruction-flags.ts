/**
 * The `--flags` each instruction accepts and docker's checks on them (buildkit
 * `instructions/bflag.go`): unknown, repeated and value-less flags are errors.
 */
import { DockerfileSyntaxError } from "../errors.js";
import type { InstructionFlag } from "./dockerfile-types.js";

/** A flag's kind: a boolean switch, a string given once, or a string that may repeat. */
export type FlagKind = "bool" | "string" | "strings";

/** Flags per instruction keyword (upper case), as buildkit's Dockerfile frontend has them. */
export const INSTRUCTION_FLAGS: Readonly<Record<string, Readonly<Record<string, FlagKind>>>> = {
  FROM: { platform: "string" },
  COPY: {
    chown: "string",
    chmod: "string",
    from: "string",
    link: "bool",
    exclude: "strings",
    parents: "bool",
  },
  ADD: {
    chown: "string",
    chmod: "string",
    link: "bool",
    "keep-git-dir": "bool",
    checksum: "string",
    unpack: "bool",
    exclude: "strings",
  },
  RUN: { mount: "strings", network: "string", security: "string", device: "strings" },
  HEALTHCHECK: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

/**
 * Checks the raw `--name[=value]` words of one instruction and returns them as flags.
 * @throws DockerfileSyntaxError with docker's wording (`unknown flag: --frm (did you mean from?)`).
 */
export function parseFlags(keyword: string, raw: readonly string[]): InstructionFlag[] {
  const spec = INSTRUCTION_FLAGS[keyword] ?? {};
  const used = new Set<string>();
  const flags: InstructionFlag[] = [];
  for (const arg of raw) {
    if (!arg.startsWith("--")) throw new DockerfileSyntaxError(`arg should start with -- : ${arg}`);
    const eq = arg.indexOf("=");
    const flagName = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    const name = flagName.slice(2);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      const hint = suggest(name, Object.keys(spec), true);
      throw new DockerfileSyntaxError(
        `unknown flag: ${flagName}${hint ? ` (did you mean ${hint}?)` : ""}`,
      );
    }
    if (used.has(name) && kind !== "strings") {
      throw new DockerfileSyntaxError(`duplicate flag specified: ${flagName}`);
    }
    used.add(name);
    if (kind === "bool") {
      if (value === "") throw new DockerfileSyntaxError(`missing a value on flag: ${flagName}`);
      const lower = value?.toLowerCase();
      if (lower !== undefined && lower !== "true" && lower !== "false") {
        throw new DockerfileSyntaxError(
          `expecting boolean value for flag ${flagName}, not: ${value}`,
        );
      }
    } else if (value === undefined) {
      throw new DockerfileSyntaxError(`missing a value on flag: ${flagName}`);
    }
    flags.push({ name, value });
  }
  return flags;
}

/** The value of the last `--name` flag, if given. */
export function flagValue(flags: readonly InstructionFlag[], name: string): string | undefined {
  return flags.findLast((f) => f.name === name)?.value;
}

/**
 * The closest of `options` to `value` (Levenshtein distance under 3), as buildkit suggests
 * a fix; undefined when `value` is itself an option or nothing is close.
 */
export function suggest(
  value: string,
  options: readonly string[],
  caseSensitive: boolean,
): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return undefined;
    const d = levenshtein(v, o);
    if (d < min) {
      min = d;
      best = caseSensitive ? o : matchCase(o, value);
    }
  }
  return best;
}

function matchCase(option: string, original: string): string {
  if (original === original.toLowerCase()) return option.toLowerCase();
  if (original === original.toUpperCase()) return option.toUpperCase();
  return option;
}

function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[y.length]!;
}
