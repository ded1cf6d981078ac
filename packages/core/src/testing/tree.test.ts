import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { setAttribute } from "@napi-rs/xattr";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyFixture, filesFixture } from "./fixtures.js";
import { assertTreesEqual, captureTree, compareTrees } from "./tree.js";

let a: string;
let b: string;
const files = filesFixture({ "d/f": "f\n", g: "g\n" });

beforeEach(async () => {
  a = await fs.mkdtemp(path.join(os.tmpdir(), "strata-tree-"));
  b = await fs.mkdtemp(path.join(os.tmpdir(), "strata-tree-"));
  for (const d of [a, b]) await applyFixture(d, files);
});
afterEach(async () => {
  for (const d of [a, b]) await fs.rm(d, { recursive: true, force: true });
});

describe("captureTree / compareTrees (the kit's own checks)", () => {
  it("finds equal trees equal", async () => {
    expect(compareTrees(await captureTree(a), await captureTree(b))).toEqual([]);
  });

  it("reports mode, content, mtime, xattr, link and presence differences by path", async () => {
    await fs.chmod(path.join(b, "g"), 0o4755);
    await fs.writeFile(path.join(b, "d/f"), "changed\n");
    await setAttribute(path.join(b, "g"), "user.x", Buffer.from([0, 1]));
    await fs.link(path.join(b, "g"), path.join(b, "g2"));
    await fs.symlink("g", path.join(b, "s"));
    await fs.rm(path.join(b, "d/f"));
    await fs.writeFile(path.join(b, "d/f"), "changed\n");
    const diffs = compareTrees(await captureTree(a), await captureTree(b));
    expect(diffs).toContain("g: mode expected 644, got 4755");
    expect(diffs).toContain('g: xattrs expected {}, got {"user.x":"0x0001"}');
    expect(diffs).toContain("g: linkGroup expected none, got g");
    expect(diffs).toContain("g2: unexpected file");
    expect(diffs).toContain("s: unexpected symlink");
    expect(diffs.some((d) => d.startsWith("d/f: size expected 2, got 8"))).toBe(true);
    expect(diffs.some((d) => d.startsWith("d/f: mtime expected 2001-09-09"))).toBe(true);
    const tb = await captureTree(b);
    expect(() => assertTreesEqual(new Map(), tb, "x")).toThrow(/difference/);
  });

  it("can leave out the root and ignored subtrees", async () => {
    await fs.chmod(b, 0o711);
    await fs.writeFile(path.join(b, "d/extra"), "");
    const opts = { root: false, ignore: (p: string) => p === "d" };
    expect(compareTrees(await captureTree(a), await captureTree(b), opts)).toEqual([]);
  });
});
