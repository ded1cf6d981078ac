import { DockerfileSyntaxError } from "../errors.js";

/**
 * The shell patterns of `${v#p}`, `${v%p}` and `${v/p/r}` as docker supports them:
 * `*` (any string), `?` (any character) and `\` quoting `*`, `?` or `\`; no bracket
 * expressions. `\}` and `\/` quote the characters that would close the `${…}` part.
 */
export function shellPatternToRegExp(
  pattern: string,
  greedy: boolean,
  anchored: boolean,
  global = false,
): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") {
      out += greedy ? "[^\\n]*" : "[^\\n]*?";
    } else if (ch === "?") {
      out += "[^\\n]";
    } else if (ch === "\\") {
      const n = chars[i + 1];
      if (n === "}" || n === "/") continue;
      if (n !== "*" && n !== "?" && n !== "\\") {
        throw new DockerfileSyntaxError(
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ""}'`,
        );
      }
      out += `\\${n}`;
      i++;
    } else {
      out += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
  }
  return new RegExp(out, global ? "gu" : "u");
}

/** `${v#p}` (shortest) / `${v##p}` (greedy): `value` without the prefix `pattern` matches. */
export function trimPatternPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** `${v%p}` / `${v%%p}`: `value` without the suffix `pattern` matches (shortest or greedy). */
export function trimPatternSuffix(pattern: string, value: string, greedy: boolean): string {
  // A regular expression finds the leftmost match, so reverse both to find the rightmost.
  const reversed = trimPatternPrefix(reversePattern(pattern), reverse(value), greedy);
  return reverse(reversed);
}

function reverse(s: string): string {
  return Array.from(s).reverse().join("");
}

/** Reverses a pattern keeping each `\x` escape pair in order (`a\*c` → `c\*a`). */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === "\\" && i !== chars.length - 1) {
      out.unshift("\\", chars[i + 1]!);
      i += 2;
    } else {
      out.unshift(chars[i]!);
      i++;
    }
  }
  return out.join("");
}
