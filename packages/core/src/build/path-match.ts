/**
 * Go's `filepath.Match` on `/`-separated paths, which docker's COPY and ADD use for
 * wildcard sources: `*` matches any run of characters but `/`, `?` one character but `/`,
 * `[abc]`, `[a-z]` and `[^a]` (or `[!a]`) one character of a class, `\\x` the character x.
 * @returns whether `name` matches; a malformed pattern matches nothing.
 */
export function pathMatch(pattern: string, name: string): boolean {
  return matchFrom(pattern, 0, name, 0);
}

/** Whether `word` has a wildcard character docker would expand (`*`, `?`, `[`). */
export function hasWildcard(word: string): boolean {
  return /[*?[]/.test(word);
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === "*") {
      // Collapse runs of stars; try every split that does not cross a "/".
      while (p[pi] === "*") pi++;
      if (pi === p.length) return !s.slice(si).includes("/");
      for (let k = si; k <= s.length; k++) {
        if (matchFrom(p, pi, s, k)) return true;
        if (s[k] === "/") return false;
      }
      return false;
    }
    if (si >= s.length) return false;
    if (c === "?") {
      if (s[si] === "/") return false;
      pi++;
      si++;
      continue;
    }
    if (c === "[") {
      const r = matchClass(p, pi, s[si]!);
      if (r === undefined || !r.ok) return false;
      pi = r.next;
      si++;
      continue;
    }
    if (c === "\\") {
      pi++;
      if (pi >= p.length) return false;
    }
    if (p[pi] !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

/** Match one character against the class starting at `p[start] === "["`. */
function matchClass(
  p: string,
  start: number,
  ch: string,
): { ok: boolean; next: number } | undefined {
  if (ch === "/") return { ok: false, next: start };
  let i = start + 1;
  let negate = false;
  if (p[i] === "^" || p[i] === "!") {
    negate = true;
    i++;
  }
  let matched = false;
  let first = true;
  while (i < p.length && (first || p[i] !== "]")) {
    first = false;
    let lo = p[i]!;
    if (lo === "\\") lo = p[++i] ?? "";
    i++;
    let hi = lo;
    if (p[i] === "-" && p[i + 1] !== undefined && p[i + 1] !== "]") {
      hi = p[i + 1]!;
      if (hi === "\\") hi = p[++i + 1] ?? "";
      i += 2;
    }
    if (lo <= ch && ch <= hi) matched = true;
  }
  if (p[i] !== "]") return undefined;
  return { ok: matched !== negate, next: i + 1 };
}
