/**
 * Go's `path.Match` (the `reference` filter of `docker images REPOSITORY[:TAG]`): `*` is
 * any run of non-`/` characters, `?` one non-`/` character, `[…]` a class (`[^…]` negated,
 * ranges `a-z`), `\` escapes.
 */
export function pathMatch(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}

function globToRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i] ?? "");
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return /$^/; // malformed: Go reports ErrBadPattern, which matches nothing
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^/" : ""}${body.replace(/[\]\\]/g, "\\$&")}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
