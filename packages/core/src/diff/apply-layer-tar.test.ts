import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HashPipe } from "../content/hash-pipe.js";
import { InvalidArgumentError } from "../errors.js";
import { applyLayerTar } from "./apply-layer-tar.js";
import {
  cleanupTemp,
  packWithTarStream,
  put,
  setXattr,
  skipWithoutRoot,
  snapshotTree,
  tempDir,
} from "./test-support/trees.js";

afterEach(cleanupTemp);

const T = 1_600_000_000;

async function* chunksOf(buf: Buffer, size = 4096): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function apply(tar: Buffer, dir: string) {
  return applyLayerTar(chunksOf(tar), dir);
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

describe("applyLayerTar", () => {
  it("extracts entries and reports the diff ID, size and entry count of the stream", async () => {
    const dir = await tempDir();
    const tar = await packWithTarStream([
      { name: "./etc/", type: "directory", mode: 0o750 },
      { name: "./etc/hostname", body: "box\n", mode: 0o640 },
      { name: "etc/link", type: "symlink", linkname: "hostname" },
    ]);
    const res = await apply(tar, dir);
    expect(res).toMatchObject({
      diffId: `sha256:${createHash("sha256").update(tar).digest("hex")}`,
      size: tar.length,
      entries: 3,
    });
    expect(await fs.readFile(path.join(dir, "etc/hostname"), "utf8")).toBe("box\n");
    expect((await fs.stat(path.join(dir, "etc"))).mode & 0o7777).toBe(0o750);
    expect((await fs.stat(path.join(dir, "etc/hostname"))).mode & 0o7777).toBe(0o640);
    expect(await fs.readlink(path.join(dir, "etc/link"))).toBe("hostname");
  });

  it("hashes on a worker thread to the same diff ID, and frees it when an entry is refused", async () => {
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i += 512) big.writeUInt32LE(i, i);
    const tar = await packWithTarStream([
      { name: "big", body: big },
      { name: "small", body: "s\n" },
    ]);
    const dir = await tempDir();
    const res = await applyLayerTar(chunksOf(tar, 300_000), dir, { hashOnWorker: true });
    expect(res).toMatchObject({
      diffId: `sha256:${createHash("sha256").update(tar).digest("hex")}`,
      size: tar.length,
      entries: 2,
    });
    expect((await fs.readFile(path.join(dir, "big"))).equals(big)).toBe(true);
    const bad = await packWithTarStream([
      { name: "big", body: big },
      { name: "../escape", body: "x" },
    ]);
    for (let i = 0; i < 4; i++) {
      // Each refused apply gives its worker back: more rounds than there are workers.
      await expect(
        applyLayerTar(chunksOf(bad, 300_000), await tempDir(), { hashOnWorker: true }),
      ).rejects.toThrow(InvalidArgumentError);
    }
    // Every worker is free again (a leaked one would also keep the process alive).
    const pipes = Array.from({ length: os.availableParallelism() }, () => HashPipe.open());
    expect(pipes.every((p) => p !== undefined)).toBe(true);
    await Promise.all(pipes.map((p) => p?.abort()));
    const again = await applyLayerTar(chunksOf(tar), await tempDir(), { hashOnWorker: true });
    expect(again.diffId).toBe(res.diffId);
  });

  it("removes whited-out entries, recursively, and leaves siblings alone", async () => {
    const dir = await tempDir();
    await put(dir, "a/keep", "k");
    await put(dir, "a/file", "f");
    await put(dir, "a/sub/deep/x", "x");
    const tar = await packWithTarStream([
      { name: "a/.wh.file", body: "" },
      { name: "a/.wh.sub", body: "" },
      { name: "a/.wh.missing", body: "" },
      { name: "nope/.wh.x", body: "" },
    ]);
    await apply(tar, dir);
    expect(await exists(path.join(dir, "a/file"))).toBe(false);
    expect(await exists(path.join(dir, "a/sub"))).toBe(false);
    expect(await exists(path.join(dir, "a/keep"))).toBe(true);
    expect(await exists(path.join(dir, "nope"))).toBe(false); // no parent made for a whiteout
    expect(await exists(path.join(dir, "a/.wh.file"))).toBe(false);
  });

  it("empties an opaque directory of everything this layer did not create", async () => {
    const dir = await tempDir();
    await put(dir, "o/old1", "1");
    await put(dir, "o/olddir/x", "x");
    await put(dir, "o/kept-dir/old", "old");
    await put(dir, "sibling", "s");
    const tar = await packWithTarStream([
      { name: "o/", type: "directory" },
      { name: "o/-early", body: "e" }, // sorts before the marker
      { name: "o/kept-dir/", type: "directory" },
      { name: "o/.wh..wh..opq", body: "" },
      { name: "o/new", body: "n" },
    ]);
    await apply(tar, dir);
    expect((await fs.readdir(path.join(dir, "o"))).sort()).toEqual(["-early", "kept-dir", "new"]);
    expect(await fs.readdir(path.join(dir, "o/kept-dir"))).toEqual([]);
    expect(await exists(path.join(dir, "sibling"))).toBe(true);
  });

  it("replaces non-directories and directories by non-directories; merges directory over directory", async () => {
    const dir = await tempDir();
    await put(dir, "d2f/child", "c");
    await put(dir, "f2d", "file");
    await put(dir, "merge/existing", "e");
    await fs.symlink("/", path.join(dir, "l2d"));
    await put(dir, "file", "old");
    const tar = await packWithTarStream([
      { name: "d2f", body: "now a file" },
      { name: "f2d/", type: "directory", mode: 0o700 },
      { name: "f2d/in", body: "in" },
      { name: "merge/", type: "directory", mode: 0o711 },
      { name: "l2d/", type: "directory" },
      { name: "file", body: "new" },
    ]);
    await apply(tar, dir);
    expect(await fs.readFile(path.join(dir, "d2f"), "utf8")).toBe("now a file");
    expect(await fs.readFile(path.join(dir, "f2d/in"), "utf8")).toBe("in");
    expect(await fs.readFile(path.join(dir, "merge/existing"), "utf8")).toBe("e");
    expect((await fs.stat(path.join(dir, "merge"))).mode & 0o7777).toBe(0o711);
    expect((await fs.lstat(path.join(dir, "l2d"))).isDirectory()).toBe(true);
    expect(await fs.readFile(path.join(dir, "file"), "utf8")).toBe("new");
  });

  it("sets directory mtimes after their children are written, and file and symlink mtimes", async () => {
    const dir = await tempDir();
    const tar = await packWithTarStream([
      { name: "a/", type: "directory", mtime: new Date(T * 1000) },
      { name: "a/b/", type: "directory", mtime: new Date((T + 1) * 1000) },
      { name: "a/b/f", body: "f", mtime: new Date((T + 2) * 1000) },
      { name: "a/l", type: "symlink", linkname: "b", mtime: new Date((T + 3) * 1000) },
    ]);
    await apply(tar, dir);
    const mt = async (p: string) => Math.floor((await fs.lstat(path.join(dir, p))).mtimeMs / 1000);
    expect([await mt("a"), await mt("a/b"), await mt("a/b/f"), await mt("a/l")]).toEqual([
      T,
      T + 1,
      T + 2,
      T + 3,
    ]);
  });

  it("fills a read-only directory before giving it its mode", async () => {
    const dir = await tempDir();
    const tar = await packWithTarStream([
      { name: "ro/", type: "directory", mode: 0o555 },
      { name: "ro/inner/", type: "directory", mode: 0o500 },
      { name: "ro/inner/f", body: "f", mode: 0o444 },
      { name: "later", type: "directory", mode: 0o700 },
      { name: "later", body: "a file replaced the directory", mode: 0o640 },
    ]);
    await applyLayerTar(chunksOf(tar), dir, { sameOwner: false });
    expect((await fs.stat(path.join(dir, "ro"))).mode & 0o7777).toBe(0o555);
    expect((await fs.stat(path.join(dir, "ro/inner"))).mode & 0o7777).toBe(0o500);
    expect(await fs.readFile(path.join(dir, "ro/inner/f"), "utf8")).toBe("f");
    expect((await fs.stat(path.join(dir, "later"))).mode & 0o7777).toBe(0o640);
    await fs.chmod(path.join(dir, "ro"), 0o755); // let cleanup remove it as non-root
    await fs.chmod(path.join(dir, "ro/inner"), 0o755);
  });

  it("links hardlinks to their target inside the tree", async () => {
    const dir = await tempDir();
    const tar = await packWithTarStream([
      { name: "bin/busybox", body: "bb", mode: 0o755 },
      { name: "bin/sh", type: "link", linkname: "bin/busybox" },
      { name: "usr/bin/env", type: "link", linkname: "./bin/busybox" },
    ]);
    await apply(tar, dir);
    const a = await fs.stat(path.join(dir, "bin/busybox"));
    expect((await fs.stat(path.join(dir, "bin/sh"))).ino).toBe(a.ino);
    expect((await fs.stat(path.join(dir, "usr/bin/env"))).ino).toBe(a.ino);
    expect(a.nlink).toBe(3);
  });

  it("sets owners from the layer only with sameOwner (the default as root)", async () => {
    const tar = await packWithTarStream([{ name: "f", body: "x", uid: 1, gid: 2 }]);
    const mine = await tempDir();
    await applyLayerTar(chunksOf(tar), mine, { sameOwner: false });
    const st = await fs.stat(path.join(mine, "f"));
    expect([st.uid, st.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
    if (skipWithoutRoot) return;
    const theirs = await tempDir();
    await apply(tar, theirs);
    const st2 = await fs.stat(path.join(theirs, "f"));
    expect([st2.uid, st2.gid]).toEqual([1, 2]);
  });

  it("reads an absolute entry name inside the tree, as docker and containerd do", async () => {
    const dir = await tempDir();
    const tar = await packWithTarStream([
      { name: "/", type: "directory" },
      { name: "/tmp/inside", body: "x" },
    ]);
    await apply(tar, dir);
    expect(await fs.readFile(path.join(dir, "tmp/inside"), "utf8")).toBe("x");
    expect(await exists("/tmp/inside")).toBe(false);
  });

  describe("rejects entries that would escape the tree, writing nothing outside", () => {
    const hostile: [string, Parameters<typeof packWithTarStream>[0]][] = [
      ["a .. component", [{ name: "a/../../escaped", body: "x" }]],
      ["a leading ..", [{ name: "../escaped", body: "x" }]],
      [
        "a symlinked parent",
        [
          { name: "evil", type: "symlink", linkname: "OUTSIDE" },
          { name: "evil/escaped", body: "x" },
        ],
      ],
      [
        "a symlinked parent two levels up",
        [
          { name: "d/", type: "directory" },
          { name: "d/evil", type: "symlink", linkname: "OUTSIDE" },
          { name: "d/evil/sub/escaped", body: "x" },
        ],
      ],
      ["a hardlink to outside", [{ name: "escaped", type: "link", linkname: "../OUTSIDE/victim" }]],
      ["an absolute hardlink", [{ name: "escaped", type: "link", linkname: "/etc/passwd" }]],
      [
        "a hardlink through a symlinked parent",
        [
          { name: "evil", type: "symlink", linkname: "OUTSIDE" },
          { name: "escaped", type: "link", linkname: "evil/victim" },
        ],
      ],
      ["a whiteout of ..", [{ name: "sub/.wh...", body: "" }]],
      ["a whiteout of .", [{ name: ".wh..", body: "" }]],
      [
        "a whiteout below a symlinked parent",
        [
          { name: "evil", type: "symlink", linkname: "OUTSIDE" },
          { name: "evil/.wh.victim", body: "" },
        ],
      ],
    ];
    for (const [what, entries] of hostile) {
      it(what, async () => {
        const base = await tempDir();
        const outside = path.join(base, "outside");
        const target = path.join(base, "root");
        await put(outside, "victim", "precious");
        await put(target, "sub/file", "s");
        const fixed = entries.map((e) =>
          e.linkname === "OUTSIDE" ? { ...e, linkname: outside } : e,
        );
        const tar = await packWithTarStream(fixed);
        await expect(apply(tar, target)).rejects.toBeInstanceOf(InvalidArgumentError);
        expect((await fs.readdir(outside)).sort()).toEqual(["victim"]);
        expect(await fs.readFile(path.join(outside, "victim"), "utf8")).toBe("precious");
        expect(await fs.readdir(base)).toEqual(expect.arrayContaining(["outside", "root"]));
        expect((await fs.readdir(base)).length).toBe(2);
        expect(await exists(path.join(target, "sub/file"))).toBe(true);
        expect(await exists("/tmp/escaped")).toBe(false);
      });
    }
  });

  it("never sets a directory's mode or times through a parent replaced by a symlink", async () => {
    // `a/`, `a/sub/` then `a` -> outside: the final pass over directories' modes and times
    // must not follow `a` and chmod outside/sub (a hole found by the breakout suite).
    const base = await tempDir();
    const outside = path.join(base, "outside");
    const target = path.join(base, "root");
    await put(outside, "sub/victim", "precious");
    await fs.chmod(path.join(outside, "sub"), 0o755);
    await fs.mkdir(target);
    const before = await snapshotTree(base);
    const tar = await packWithTarStream([
      { name: "a/", type: "directory" },
      { name: "a/sub/", type: "directory", mode: 0o777 },
      { name: "a", type: "symlink", linkname: outside },
    ]);
    await apply(tar, target);
    const after = await snapshotTree(base);
    expect(after["outside/sub"]).toEqual(before["outside/sub"]);
    expect(after["outside/sub/victim"]).toEqual(before["outside/sub/victim"]);
    expect(await fs.readlink(path.join(target, "a"))).toBe(outside);
  });

  it("extracts .wh. entries as plain files when whiteouts are off (cp, ADD, COPY)", async () => {
    const dir = await tempDir();
    await put(dir, "keep", "k");
    await put(dir, "d/old", "o");
    const tar = await packWithTarStream([
      { name: ".wh.keep", body: "not a whiteout" },
      { name: "d/.wh..wh..opq", body: "" },
      { name: ".wh..wh.plnk/x", body: "x" },
    ]);
    await applyLayerTar(chunksOf(tar), dir, { whiteouts: false });
    expect(await fs.readFile(path.join(dir, ".wh.keep"), "utf8")).toBe("not a whiteout");
    expect(await exists(path.join(dir, "keep"))).toBe(true);
    expect(await exists(path.join(dir, "d/old"))).toBe(true);
    expect(await exists(path.join(dir, "d/.wh..wh..opq"))).toBe(true);
    expect(await exists(path.join(dir, ".wh..wh.plnk/x"))).toBe(true);
  });

  it("rejects a malformed tar as InvalidArgumentError", async () => {
    const tar = await packWithTarStream([{ name: "f", body: "x".repeat(1000) }]);
    const dir = await tempDir();
    await expect(apply(tar.subarray(0, 700), dir)).rejects.toBeInstanceOf(InvalidArgumentError);
    const bad = Buffer.from(tar);
    bad[0] = 0x5a;
    await expect(apply(bad, dir)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("lets a native applier convert whiteouts (overlay style) instead of removing", async () => {
    const dir = await tempDir();
    await put(dir, "a/x", "x");
    const seen: string[] = [];
    const tar = await packWithTarStream([
      { name: "a/.wh.x", body: "" },
      { name: "b/.wh..wh..opq", body: "" },
    ]);
    await applyLayerTar(chunksOf(tar), dir, {
      convertWhiteout: async (w) => {
        seen.push(`${w.kind}:${w.path}:${path.relative(dir, w.absPath)}`);
        return false;
      },
    });
    expect(seen).toEqual(["delete:a/x:a/x", "opaque:b:b"]);
    expect(await exists(path.join(dir, "a/x"))).toBe(true); // default removal skipped
    expect(await exists(path.join(dir, "b"))).toBe(true); // parent made for the converter
  });

  it.skipIf(skipWithoutRoot)(
    "applies what GNU tar writes (PAX, xattrs, devices, hardlinks), reproducing the tree (root)",
    async () => {
      const src = await tempDir();
      await put(src, "bin/ping", "ping", { mode: 0o4755, uid: 1, gid: 2, mtime: T });
      setXattr(
        path.join(src, "bin/ping"),
        "security.capability",
        Buffer.from("0100000200200000000000000000000000000000", "hex"),
      );
      setXattr(path.join(src, "bin/ping"), "trusted.bin", Buffer.from([0, 255, 10]));
      await fs.link(path.join(src, "bin/ping"), path.join(src, "bin/ping6"));
      execFileSync("mknod", [path.join(src, "null"), "c", "1", "3"]);
      execFileSync("mkfifo", [path.join(src, "fifo")]);
      await fs.symlink("bin/ping", path.join(src, "link"));
      await put(src, `${"long/".repeat(40)}name`, "deep", { mtime: T });
      const tar = execFileSync("tar", [
        "--format=pax",
        "--xattrs",
        "--xattrs-include=*",
        "--numeric-owner",
        "-C",
        src,
        "-cf",
        "-",
        ".",
      ]);
      const dir = await tempDir();
      await apply(tar, dir);
      const want = await snapshotTree(src);
      const got = await snapshotTree(dir);
      for (const e of [...Object.values(want), ...Object.values(got)])
        if (e.type === "dir") delete e.mtime;
      expect(got).toEqual(want);
      expect(got["bin/ping"]!.xattrs["security.capability"]).toBe(
        "0100000200200000000000000000000000000000",
      );
    },
  );
});
