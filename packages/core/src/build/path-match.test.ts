import { describe, expect, it } from "vitest";
import { dockerignoreMatcher } from "./dockerignore.js";
import { hasWildcard, pathMatch } from "./path-match.js";

describe("pathMatch (Go's filepath.Match, as COPY wildcards use it)", () => {
  it.each([
    ["*.txt", "a.txt", true],
    ["*.txt", "dir/a.txt", false],
    ["dir/*.txt", "dir/a.txt", true],
    ["a?c", "abc", true],
    ["a?c", "a/c", false],
    ["[a-c]x", "bx", true],
    ["[^a-c]x", "bx", false],
    ["[!a-c]x", "dx", true],
    ["\\*", "*", true],
    ["\\*", "a", false],
    ["*", "", true],
    ["[", "[", false],
  ])("%s matches %s: %s", (pattern, name, want) => {
    expect(pathMatch(pattern, name)).toBe(want);
  });

  it("knows which words have wildcards", () => {
    expect(hasWildcard("src/*.js")).toBe(true);
    expect(hasWildcard("file[0-9]")).toBe(true);
    expect(hasWildcard("plain/path")).toBe(false);
  });
});

describe("dockerignoreMatcher (docker's patternmatcher rules)", () => {
  const m = dockerignoreMatcher([
    "# a comment",
    "",
    "*.log",
    "!keep.log",
    "/build/",
    "**/*.tmp",
    "docs/**/draft",
    "node_modules",
  ]);
  it.each([
    ["debug.log", true],
    ["keep.log", false],
    ["sub/debug.log", false], // `*` does not cross a `/`
    ["build", true],
    ["build/out/x.o", true], // a matched parent hides its children
    ["a/b/c.tmp", true],
    ["c.tmp", true],
    ["docs/draft", true],
    ["docs/x/y/draft", true],
    ["docs/final", false],
    ["node_modules/pkg/index.js", true],
    ["src/app.ts", false],
  ])("%s excluded: %s", (rel, want) => {
    expect(m(rel)).toBe(want);
  });
});
