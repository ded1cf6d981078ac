import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnionTree } from "./union-tree.js";

/** Branch contents as `path: content` (a trailing `/` makes a directory). */
type Spec = Record<string, string>;

function makeBranch(root: string, spec: Spec): void {
  fs.mkdirSync(root, { recursive: true });
  for (const [p, content] of Object.entries(spec)) {
    const abs = path.join(root, p);
    if (p.endsWith("/")) fs.mkdirSync(abs, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    }
  }
}

describe("UnionTree: AUFS lookup rules over plain directories", () => {
  let dir: string;
  let n = 0;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-union-tree-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A union of branches given top first; the first is writable when `rw`. */
  function union(branches: Spec[], rw = false): UnionTree {
    return new UnionTree(
      branches.map((spec, i) => {
        const root = path.join(dir, `b${n++}`);
        makeBranch(root, spec);
        return { root, rw: rw && i === 0 };
      }),
    );
  }
  const names = (t: UnionTree, p: string) => t.readdir(p, t.lookup(p)!).sort();

  it("shows the topmost branch's entry and merges directories", () => {
    const t = union([
      { "d/a": "top", f: "top" },
      { "d/a": "low", "d/b": "low", f: "low", g: "low" },
    ]);
    expect(names(t, "/")).toEqual(["d", "f", "g"]);
    expect(names(t, "/d")).toEqual(["a", "b"]);
    expect(t.lookup("/d/a")!.top).toBe(0);
    expect(t.lookup("/d/b")!.top).toBe(1);
    expect(t.lookup("/d")!.dirs).toEqual([0, 1]);
  });

  it("hides lower entries behind whiteouts, but not the whiteout's own branch's", () => {
    const t = union([
      { ".wh.f": "", "d/.wh.b": "" },
      { f: "mid", "d/b": "mid", "d/c": "" },
      { f: "low" },
    ]);
    expect(t.lookup("/f")).toBeUndefined();
    expect(names(t, "/")).toEqual(["d"]);
    expect(names(t, "/d")).toEqual(["c"]);
    const same = union([{ f: "kept", ".wh.f": "" }, { f: "low" }]);
    expect(same.lookup("/f")!.top).toBe(0);
    expect(names(same, "/")).toEqual(["f"]);
  });

  it("stops merging at an opaque directory, a whiteout or a lower non-directory", () => {
    const t = union([
      { "o/.wh..wh..opq": "", "o/new": "" },
      { "o/old": "", "w/x": "", ".wh.w": "", "n/y": "" },
      { "w/z": "", n: "a file" },
    ]);
    expect(names(t, "/o")).toEqual(["new"]);
    expect(t.lookup("/o")!.dirs).toEqual([0]);
    expect(names(t, "/w")).toEqual(["x"]); // branch 1's own dir, not branch 2's
    expect(t.lookup("/n")!.dirs).toEqual([1]);
    expect(t.lookup("/n/y")).toBeDefined();
  });

  it("a non-directory above hides a lower directory and all below it", () => {
    const t = union([{ d: "file now" }, { "d/deep/f": "" }]);
    expect(t.lookup("/d")!.dir).toBe(false);
    expect(t.lookup("/d/deep")).toBeUndefined();
  });

  it("never shows .wh. names, and AUFS's own .wh..wh. names hide nothing", () => {
    const t = union([
      { ".wh..wh.plnk/": "", ".wh.x": "" },
      { x: "", ".wh..wh.aufs": "" },
    ]);
    expect(names(t, "/")).toEqual([]);
    expect(t.lookup("/.wh.x")).toBeUndefined();
    expect(t.lookup("/.wh..wh.plnk")).toBeUndefined();
  });

  it("tells what lies below the writable branch, whiteouts included", () => {
    const t = union([{ "d/": "", ".wh.gone": "" }, { d: "", f: "", gone: "" }, { "e/": "" }], true);
    expect(t.lowerKind("/", "f")).toBe(1);
    expect(t.lowerKind("/", "e")).toBe(2);
    expect(t.lowerKind("/", "gone")).toBe(0);
    expect(t.lowerKind("/", "nothing")).toBe(0);
  });

  it("asks the writable branch each time and caches the read-only ones", () => {
    const t = union([{}, { f: "low" }], true);
    expect(t.lookup("/g")).toBeUndefined();
    expect(t.lookup("/f")!.top).toBe(1);
    fs.writeFileSync(t.abs(0, "/g"), "new");
    expect(t.lookup("/g")!.top).toBe(0);
    // A read-only branch is read once: later changes to it are not seen (they never happen).
    fs.writeFileSync(t.abs(1, "/h"), "late");
    expect(t.lookup("/h")).toBeUndefined();
    fs.writeFileSync(t.abs(0, "/.wh.f"), "");
    expect(t.lookup("/f")!.top).toBe(1); // cached until forgotten
    t.forget("/f");
    expect(t.lookup("/f")).toBeUndefined();
  });

  it("shows a directory's lowest branch's inode number, so copy-up keeps it", () => {
    const t = union([{ "d/": "" }, { "d/x": "" }], true);
    const e = t.lookup("/d")!;
    const low = fs.lstatSync(t.abs(1, "/d")).ino;
    expect(t.dirIno("/d", e, t.stat("/d", e))).toBe(low);
  });
});
