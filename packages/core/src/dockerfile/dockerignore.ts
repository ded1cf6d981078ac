/**
 * `.dockerignore` as docker reads it (moby `patternmatcher` and `ignorefile`): Go
 * `filepath.Match` patterns plus `**`, `!` exceptions where the last matching line wins,
 * and a pattern that matches a directory excludes everything beneath it.
 */
import { InvalidArgumentError } from "../errors.js";

/**
 * The patterns of a `.dockerignore` file, in order: comment lines (`#` in the first column)
 * and blank lines dropped, each pattern trimmed and cleaned like a Go path (`./a/../b/` is
 * `b`), a leading `/` removed, `!` kept in front of exceptions.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  for (const rawLine of body.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith("#")) continue;
    let pattern = line.trim();
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** Decides which paths of a build context `.dockerignore` patterns leave out. */
export interface IgnoreMatcher {
  /** True when some pattern is an exception (`!…`). */
  readonly hasExceptions: boolean;
  /**
   * True when `relPath` (slash-separated, relative to the context root) is excluded: the
   * last pattern matching it or one of its parent directories decides. The root itself
   * (`.`) is never excluded.
   */
  matches(relPath: string): boolean;
  /**
   * True when a walker must still descend into the directory `relDir`: it is not excluded,
   * or it is but an exception could re-include something beneath it (`!dir/keep.txt`,
   * `!**\/*.go`). False means nothing under `relDir` can be sent, so it may be skipped.
   */
  mustWalk(relDir: string): boolean;
}

interface CompiledPattern {
  readonly exclusion: boolean;
  readonly source: string;
  readonly segments: readonly string[];
  readonly test: (path: string) => boolean;
}

/**
 * Compiles `.dockerignore` patterns (as {@link parseDockerignore} returns them).
 * @throws InvalidArgumentError for a malformed pattern (`[a`, a lone `!`, a trailing `\`).
 */
export function createIgnoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  const compiled: CompiledPattern[] = [];
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === "") continue;
    p = cleanPath(p);
    const exclusion = p.startsWith("!");
    if (exclusion) {
      if (p.length === 1) throw new InvalidArgumentError('illegal exclusion pattern: "!"');
      p = cleanPath(p.slice(1));
    }
    compiled.push({
      exclusion,
      source: p,
      segments: p.split("/"),
      test: compilePattern(p),
    });
  }
  const hasExceptions = compiled.some((p) => p.exclusion);

  const matches = (relPath: string): boolean => {
    const file = cleanRelative(relPath);
    if (file === ".") return false;
    // The parent directories, shortest first: "a", "a/b" for "a/b/c".
    const parents: string[] = [];
    for (let i = file.indexOf("/"); i >= 0; i = file.indexOf("/", i + 1)) {
      parents.push(file.slice(0, i));
    }
    let matched = false;
    for (const pattern of compiled) {
      // An include can only flip an unmatched path, an exception only a matched one.
      if (pattern.exclusion !== matched) continue;
      const hit = pattern.test(file) || parents.some((parent) => pattern.test(parent));
      if (hit) matched = !pattern.exclusion;
    }
    return matched;
  };

  const mustWalk = (relDir: string): boolean => {
    if (!matches(relDir)) return true;
    if (!hasExceptions) return false;
    const dir = cleanRelative(relDir).split("/");
    return compiled.some((p) => p.exclusion && mayMatchBelow(p.segments, dir));
  };

  return { hasExceptions, matches, mustWalk };
}

/**
 * Whether a pattern could match `dir` itself, an ancestor (and so everything beneath) or a
 * path below it. Conservative: `**` anywhere in a segment may match anything.
 */
function mayMatchBelow(segments: readonly string[], dir: readonly string[]): boolean {
  for (let i = 0; i < dir.length; i++) {
    const segment = segments[i];
    if (segment === undefined) return true; // the pattern matched an ancestor of dir
    if (segment.includes("**")) return true;
    if (!compilePattern(segment)(dir[i]!)) return false;
  }
  return true;
}

/** `p` relative to the context: cleaned, without a leading `/` or `./`. */
function cleanRelative(p: string): string {
  const clean = cleanPath(p);
  if (clean === "/") return ".";
  return clean.startsWith("/") ? clean.slice(1) : clean;
}

/** Go's `path.Clean`: one slash between elements, no `.`, `..` resolved lexically. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}

const syntaxError = (pattern: string) =>
  new InvalidArgumentError(`syntax error in pattern: ${JSON.stringify(pattern)}`);

/** Escapes one character for a `u`-mode regular expression (`-` only needs it in a class). */
function lit(ch: string, inClass = false): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) || (inClass && ch === "-") ? `\\${ch}` : ch;
}

/**
 * A pattern as a test on slash-separated paths, with moby's semantics: `*` and `?` never
 * cross `/`, `**` crosses any number of directories, `[…]` classes, `\` quotes.
 */
function compilePattern(pattern: string): (path: string) => boolean {
  const chars = Array.from(pattern);
  let re = "";
  let plain = true; // no wildcard: compare as a string (moby's exact match)
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") {
      plain = false;
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        // `**` at the end matches everything; elsewhere any number of directories.
        re += i + 1 >= chars.length ? "[^\\n]*" : "(?:[^\\n]*/)?";
      } else {
        re += "[^/]*";
      }
    } else if (ch === "?") {
      plain = false;
      re += "[^/]";
    } else if (ch === "\\") {
      const next = chars[++i];
      if (next === undefined) throw syntaxError(pattern);
      plain = false;
      re += lit(next);
    } else if (ch === "[") {
      plain = false;
      const end = parseClass(chars, i + 1, pattern);
      re += end.source;
      i = end.next - 1;
    } else {
      re += lit(ch);
    }
  }
  if (plain) return (path) => path === pattern;
  // moby compares `**<literal>` as a plain suffix (so `**foo` matches `barfoo`).
  const suffix = pattern.slice(2);
  if (pattern.startsWith("**") && !/[*?[\\]/.test(suffix)) {
    return (path) => path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
  }
  const regexp = new RegExp(`^${re}$`, "u");
  return (path) => regexp.test(path);
}

/** A `[…]` class starting after its `[` at `start`, checked as Go's filepath.Match does. */
function parseClass(
  chars: readonly string[],
  start: number,
  pattern: string,
): { source: string; next: number } {
  let i = start;
  let source = "[";
  if (chars[i] === "^") {
    source += "^";
    i++;
  }
  const getEsc = (): string => {
    let c = chars[i];
    if (c === undefined || c === "-" || c === "]") throw syntaxError(pattern);
    if (c === "\\") {
      c = chars[++i];
      if (c === undefined) throw syntaxError(pattern);
    }
    i++;
    if (i >= chars.length) throw syntaxError(pattern); // the class never closes
    return c;
  };
  for (let ranges = 0; ; ranges++) {
    if (chars[i] === "]" && ranges > 0) return { source: `${source}]`, next: i + 1 };
    const lo = getEsc();
    let hi = lo;
    if (chars[i] === "-") {
      i++;
      hi = getEsc();
    }
    if (lo.codePointAt(0)! > hi.codePointAt(0)!) throw syntaxError(pattern);
    source += lo === hi ? lit(lo, true) : `${lit(lo, true)}-${lit(hi, true)}`;
  }
}
