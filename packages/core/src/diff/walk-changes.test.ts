import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanupTemp, copyTree, put, setXattr, tempDir } from "./test-support/trees.js";
import { computeChanges, walkChanges } from "./walk-changes.js";

afterEach(cleanupTemp);

const T = 1_600_000_000;

/** A lower tree and an upper copy of it. */
async function pair(): Promise<{ lower: string; upper: string }> {
  const lower = await tempDir();
  await put(lower, "etc/passwd", "root:x:0:0\n", { mtime: T });
  await put(lower, "etc/group", "root:x:0:\n", { mtime: T });
  await put(lower, "etc/old.conf", "old", { mtime: T });
  await put(lower, "var/cache/a/1", "1", { mtime: T });
  await put(lower, "var/cache/a/2", "2", { mtime: T });
  await put(lower, "var/cache/b", "b", { mtime: T });
  await put(lower, "var/lib/keep", "k", { mtime: T });
  await put(lower, "t/dir2file/child", "c", { mtime: T });
  await put(lower, "t/file2dir", "f", { mtime: T });
  await put(lower, "opt/deep/er/still/unchanged", "u", { mtime: T });
  await fs.symlink("passwd", path.join(lower, "etc/link"));
  const upper = await tempDir();
  copyTree(lower, upper);
  return { lower, upper };
}

describe("computeChanges", () => {
  it("reports nothing for identical trees and everything as added against an empty lower", async () => {
    const { lower, upper } = await pair();
    expect(await computeChanges(lower, upper)).toEqual([]);
    const empty = await tempDir();
    const all = await computeChanges(empty, lower);
    expect(all.every((c) => c.kind === "A")).toBe(true);
    expect(all.map((c) => c.path)).toContain("/opt/deep/er/still/unchanged");
    expect(all.map((c) => c.path).indexOf("/var")).toBeLessThan(
      all.map((c) => c.path).indexOf("/var/cache/a/1"),
    );
  });

  it("lists adds, changes and deletes as docker diff does, parents first, sorted", async () => {
    const { lower, upper } = await pair();
    await fs.appendFile(path.join(upper, "etc/passwd"), "u:x:1:1\n");
    await fs.rm(path.join(upper, "etc/old.conf"));
    await fs.rm(path.join(upper, "var/cache"), { recursive: true });
    await put(upper, "usr/local/bin/tool", "#!/bin/sh\n");
    await put(upper, "var/lib/new", "n");
    expect(await computeChanges(lower, upper)).toEqual([
      { kind: "C", path: "/etc" },
      { kind: "D", path: "/etc/old.conf" },
      { kind: "C", path: "/etc/passwd" },
      { kind: "A", path: "/usr" },
      { kind: "A", path: "/usr/local" },
      { kind: "A", path: "/usr/local/bin" },
      { kind: "A", path: "/usr/local/bin/tool" },
      { kind: "C", path: "/var" },
      { kind: "D", path: "/var/cache" }, // not its children
      { kind: "C", path: "/var/lib" },
      { kind: "A", path: "/var/lib/new" },
    ]);
  });

  it("detects metadata-only changes: mode, owner, mtime, xattrs, symlink target; ignores directory mtime", async () => {
    const { lower, upper } = await pair();
    await fs.chmod(path.join(upper, "etc/group"), 0o600);
    await fs.utimes(path.join(upper, "var/lib/keep"), T + 5, T + 5);
    await fs.utimes(path.join(upper, "opt/deep"), T + 9, T + 9); // a directory: ignored
    setXattr(path.join(upper, "var/cache/b"), "user.note", "x");
    await fs.rm(path.join(upper, "etc/link"));
    await fs.symlink("passwe", path.join(upper, "etc/link")); // same size
    if (process.getuid?.() === 0) await fs.lchown(path.join(upper, "etc/passwd"), 1, 2);
    const changes = await computeChanges(lower, upper);
    expect(changes).toEqual(
      [
        { kind: "C", path: "/etc" },
        { kind: "C", path: "/etc/group" },
        { kind: "C", path: "/etc/link" },
        ...(process.getuid?.() === 0 ? [{ kind: "C", path: "/etc/passwd" }] : []),
        { kind: "C", path: "/var" },
        { kind: "C", path: "/var/cache" },
        { kind: "C", path: "/var/cache/b" },
        { kind: "C", path: "/var/lib" },
        { kind: "C", path: "/var/lib/keep" },
      ].map((c) => ({ ...c, kind: c.kind as "C" })),
    );
  });

  it("treats a type change as a change, with everything below a new directory added", async () => {
    const { lower, upper } = await pair();
    await fs.rm(path.join(upper, "t/dir2file"), { recursive: true });
    await put(upper, "t/dir2file", "now a file");
    await fs.rm(path.join(upper, "t/file2dir"));
    await put(upper, "t/file2dir/inner/x", "x");
    expect(await computeChanges(lower, upper)).toEqual([
      { kind: "C", path: "/t" },
      { kind: "C", path: "/t/dir2file" },
      { kind: "C", path: "/t/file2dir" },
      { kind: "A", path: "/t/file2dir/inner" },
      { kind: "A", path: "/t/file2dir/inner/x" },
    ]);
  });

  it("matches an mtime whose nanoseconds were lost (tar extraction) on seconds alone", async () => {
    const { lower, upper } = await pair();
    await fs.utimes(path.join(lower, "etc/group"), T + 0.25, T + 0.25);
    await fs.utimes(path.join(upper, "etc/group"), T, T); // nanoseconds dropped
    await fs.utimes(path.join(lower, "etc/passwd"), T + 0.25, T + 0.25);
    await fs.utimes(path.join(upper, "etc/passwd"), T + 0.5, T + 0.5); // really different
    expect(await computeChanges(lower, upper)).toEqual([
      { kind: "C", path: "/etc" },
      { kind: "C", path: "/etc/passwd" },
    ]);
  });

  it("yields changes carrying the upper file's stat and xattrs, and honours an xattr filter", async () => {
    const { lower, upper } = await pair();
    setXattr(path.join(upper, "etc/group"), "user.skip", "1");
    setXattr(path.join(upper, "etc/passwd"), "user.keep", "1");
    const out = [];
    for await (const c of walkChanges(lower, upper, { xattrFilter: (n) => n !== "user.skip" })) {
      out.push(c);
    }
    expect(out.map((c) => [c.kind, c.path])).toEqual([
      ["modify", "etc"],
      ["modify", "etc/passwd"],
    ]);
    expect(out[1]!.sourcePath).toBe(path.join(upper, "etc/passwd"));
    expect(out[1]!.stat?.size).toBe(11);
    expect(out[1]!.xattrs?.get("user.keep")?.toString()).toBe("1");
  });

  it("stops when its signal aborts", async () => {
    const { lower, upper } = await pair();
    const ac = new AbortController();
    ac.abort();
    await expect(computeChanges(lower, upper, { signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
