import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The `.dockerignore` of a build context as docker's `patternmatcher` reads it: one
 * pattern a line, `#` comments, blank lines skipped, paths cleaned and a leading `/`
 * dropped, `!` re-including, `**` matching any number of directories; the last matching
 * pattern wins, and a pattern that matches a parent directory matches what is below it.
 * @returns `(rel) => excluded`, or undefined when the context has no `.dockerignore`.
 * @experimental
 */
export function readDockerignore(contextDir: string): ((rel: string) => boolean) | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(contextDir, ".dockerignore"), "utf8");
  } catch {
    return undefined;
  }
  return dockerignoreMatcher(text.split(/\r?\n/));
}

/** The matcher of `.dockerignore` lines (see {@link readDockerignore}). */
export function dockerignoreMatcher(lines: readonly string[]): (rel: string) => boolean {
  const rules: { re: RegExp; exclude: boolean }[] = [];
  for (const raw of lines) {
    let p = raw.trim();
    if (p === "" || p.startsWith("#")) continue;
    let exclude = true;
    if (p.startsWith("!")) {
      exclude = false;
      p = p.slice(1).trim();
    }
    p = path.posix.normalize(p).replace(/^\/+/, "").replace(/\/+$/, "");
    if (p === "" || p === ".") continue;
    rules.push({ re: patternRegExp(p), exclude });
  }
  return (rel: string) => {
    let excluded = false;
    const parents: string[] = [];
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) parents.push(parts.slice(0, i).join("/"));
    for (const r of rules) {
      if (parents.some((p) => r.re.test(p))) excluded = r.exclude;
    }
    return excluded;
  };
}

function patternRegExp(p: string): RegExp {
  let re = "^";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      if (p[i + 1] === "*") {
        i++;
        if (p[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let cls = p.slice(i + 1, end);
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < p.length) {
      re += escapeRe(p[++i]!);
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
