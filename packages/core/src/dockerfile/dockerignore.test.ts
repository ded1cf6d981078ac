import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { cleanPath, createIgnoreMatcher, parseDockerignore } from "./dockerignore.js";

/** The matcher for a `.dockerignore` text. */
const ignore = (text: string) => createIgnoreMatcher(parseDockerignore(text));

describe("parseDockerignore", () => {
  it("drops comments and blank lines, trims and cleans patterns", () => {
    expect(
      parseDockerignore(
        "\uFEFF# comment\n\n  */temp*  \r\n/foo/bar\n./a/../b/\n! ./keep \n  # not a comment\n!\n/\n",
      ),
    ).toEqual(["*/temp*", "foo/bar", "b", "!keep", "# not a comment", "!", "/"]);
  });

  it("cleans like Go's path.Clean", () => {
    expect(cleanPath("")).toBe(".");
    expect(cleanPath("a//b/./c/..")).toBe("a/b");
    expect(cleanPath("../../x")).toBe("../../x");
    expect(cleanPath("/../x")).toBe("/x");
    expect(cleanPath("./")).toBe(".");
  });
});

describe("createIgnoreMatcher: docker's documented examples", () => {
  it("*/temp*, */*/temp* and temp?", () => {
    const m = ignore("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
    expect(m.matches("somedir/temporary.txt")).toBe(true);
    expect(m.matches("somedir/temp")).toBe(true);
    expect(m.matches("somedir/subdir/temporary.txt")).toBe(true);
    expect(m.matches("tempa")).toBe(true);
    expect(m.matches("tempb")).toBe(true);
    expect(m.matches("temporary.txt")).toBe(false);
    expect(m.matches("temp")).toBe(false);
    expect(m.matches("a/b/c/temp.txt")).toBe(false);
  });

  it("**/*.go matches in every directory, the root included", () => {
    const m = ignore("**/*.go\n");
    expect(m.matches("main.go")).toBe(true);
    expect(m.matches("a/b/c.go")).toBe(true);
    expect(m.matches("a/b/c.gox")).toBe(false);
  });

  it("exceptions: the last matching line wins", () => {
    const readme = ignore("*.md\n!README.md\n");
    expect(readme.matches("CHANGES.md")).toBe(true);
    expect(readme.matches("README.md")).toBe(false);

    const secretLast = ignore("*.md\n!README*.md\nREADME-secret.md\n");
    expect(secretLast.matches("README-secret.md")).toBe(true);
    expect(secretLast.matches("README-public.md")).toBe(false);
    expect(secretLast.matches("other.md")).toBe(true);

    const exceptionLast = ignore("*.md\nREADME-secret.md\n!README*.md\n");
    expect(exceptionLast.matches("README-secret.md")).toBe(false);
    expect(exceptionLast.matches("other.md")).toBe(true);
  });

  it("treats /foo/bar and foo/bar alike", () => {
    for (const m of [ignore("/foo/bar\n"), ignore("foo/bar\n"), ignore("./foo/bar\n")]) {
      expect(m.matches("foo/bar")).toBe(true);
      expect(m.matches("/foo/bar")).toBe(true);
      expect(m.matches("./foo/bar")).toBe(true);
      expect(m.matches("x/foo/bar")).toBe(false);
    }
  });
});

describe("createIgnoreMatcher: directories", () => {
  it("excludes a directory's contents with the directory", () => {
    const m = ignore("node_modules\nbuild/*\n");
    expect(m.matches("node_modules")).toBe(true);
    expect(m.matches("node_modules/a/b.js")).toBe(true);
    expect(m.matches("src/node_modules")).toBe(false);
    expect(m.matches("build/out/x.o")).toBe(true);
    expect(m.matches("build")).toBe(false);
  });

  it("never excludes the context root", () => {
    expect(ignore("*\n").matches(".")).toBe(false);
    expect(ignore("*\n").matches("")).toBe(false);
    expect(ignore("**\n").matches("a/b")).toBe(true);
  });

  it("re-includes paths under an excluded directory", () => {
    const m = ignore("docs\n!docs/keep.md\n");
    expect(m.matches("docs/other.md")).toBe(true);
    expect(m.matches("docs/keep.md")).toBe(false);
  });

  it("tells a walker which excluded directories may still hold included files", () => {
    const m = ignore("*\n!src/**/*.go\n!docs/keep.md\n!**/LICENSE\n");
    expect(m.hasExceptions).toBe(true);
    expect(m.mustWalk("src")).toBe(true);
    expect(m.mustWalk("src/pkg/deep")).toBe(true);
    expect(m.mustWalk("docs")).toBe(true);
    expect(m.mustWalk("vendor")).toBe(true); // **/LICENSE may be anywhere
    const narrow = ignore("*\n!src/*.go\n!docs/keep.md\n");
    expect(narrow.mustWalk("vendor")).toBe(false);
    expect(narrow.mustWalk("src")).toBe(true);
    expect(narrow.mustWalk("src/sub")).toBe(false);
    expect(narrow.mustWalk("docs/sub")).toBe(false);
    const plain = ignore("build\n");
    expect(plain.hasExceptions).toBe(false);
    expect(plain.mustWalk("build")).toBe(false);
    expect(plain.mustWalk("src")).toBe(true);
  });

  it("walks into a directory an exception names or contains", () => {
    const m = ignore("build\n!build\n");
    expect(m.matches("build/x")).toBe(false);
    expect(m.mustWalk("build")).toBe(true);
    expect(ignore("a\n!a/b/c\n").mustWalk("a/b")).toBe(true);
  });
});

describe("createIgnoreMatcher: Go filepath.Match syntax", () => {
  it("supports ?, classes, ranges, negation and escapes", () => {
    expect(ignore("file[0-9].txt\n").matches("file5.txt")).toBe(true);
    expect(ignore("file[0-9].txt\n").matches("filex.txt")).toBe(false);
    expect(ignore("file[^0-9].txt\n").matches("filex.txt")).toBe(true);
    expect(ignore("[a-c]x\n").matches("bx")).toBe(true);
    expect(ignore("a[\\]]b\n").matches("a]b")).toBe(true);
    expect(ignore("a\\*b\n").matches("a*b")).toBe(true);
    expect(ignore("a\\*b\n").matches("axb")).toBe(false);
    expect(ignore("?\n").matches("ab")).toBe(false);
    expect(ignore("*.txt\n").matches("a/b.txt")).toBe(false);
    expect(ignore("a.b\n").matches("axb")).toBe(false);
    expect(ignore("f(o)+{1}$\n").matches("f(o)+{1}$")).toBe(true);
    expect(ignore("**foo\n").matches("barfoo")).toBe(true);
  });

  it("rejects malformed patterns", () => {
    for (const bad of ["[a", "a\\", "[]a]", "[-a]", "[a-]", "[a-c-]", "[z-a]", "!"]) {
      expect(() => createIgnoreMatcher([bad]), bad).toThrow(InvalidArgumentError);
    }
    expect(() => createIgnoreMatcher(["[a"])).toThrow('syntax error in pattern: "[a"');
    expect(() => createIgnoreMatcher(["!"])).toThrow('illegal exclusion pattern: "!"');
  });
});
