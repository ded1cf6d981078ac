import { describe, expect, it } from "vitest";
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
