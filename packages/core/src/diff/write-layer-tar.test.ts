import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mknod } from "../util/device.js";
import type { LayerChange } from "./layer-change.js";
import {
  cleanupTemp,
  copyTree,
  gnuTarList,
  listWithTarStream,
  memorySink,
  put,
  setXattr,
  skipWithoutRoot,
  tempDir,
} from "./test-support/trees.js";
import { walkChanges } from "./walk-changes.js";
import { writeLayerTar } from "./write-layer-tar.js";

afterEach(cleanupTemp);

const T = 1_600_000_000;
/** sha256 of 1024 zero bytes: the empty layer docker writes. */
const EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

async function diffTar(
  lower: string,
  upper: string,
): Promise<{ tar: Buffer; entries: number; size: number }> {
  const sink = memorySink();
  const stats = await writeLayerTar(walkChanges(lower, upper), sink);
  return { tar: sink.bytes(), ...stats };
}

describe("writeLayerTar", () => {
  it("writes the empty layer (1024 zero bytes) when nothing changed", async () => {
    const a = await tempDir();
    const { tar, entries, size } = await diffTar(a, a);
    expect(entries).toBe(0);
    expect(size).toBe(1024);
    expect(`sha256:${createHash("sha256").update(tar).digest("hex")}`).toBe(EMPTY_LAYER);
  });

  it("writes changed entries in path order with docker's naming, whiteouts for deletions", async () => {
    const lower = await tempDir();
    await put(lower, "bin/sh", "sh", { mtime: T });
    await put(lower, "etc/passwd", "root\n", { mtime: T });
    await put(lower, "etc/gone", "x", { mtime: T });
    await put(lower, "var/cache/a/b/c", "deep", { mtime: T });
    await put(lower, "var/cache/d", "d", { mtime: T });
    const upper = await tempDir();
    copyTree(lower, upper);
    await put(upper, "etc/passwd", "root\nuser\n", { mode: 0o600, mtime: T + 10 });
    await fs.rm(path.join(upper, "etc/gone"));
    await fs.rm(path.join(upper, "var/cache"), { recursive: true });
    await put(upper, "home/u/.profile", "PS1=$\n", { mtime: T + 20 });

    const { tar, entries, size } = await diffTar(lower, upper);
    expect(size).toBe(tar.length);
    const listed = await listWithTarStream(tar);
    expect(entries).toBe(listed.length);
    expect(listed.map((e) => [e.name, e.type])).toEqual([
      ["etc/", "directory"],
      ["etc/.wh.gone", "file"],
      ["etc/passwd", "file"],
      ["home/", "directory"],
      ["home/u/", "directory"],
      ["home/u/.profile", "file"],
      ["var/", "directory"],
      ["var/.wh.cache", "file"],
    ]);
    const passwd = listed.find((e) => e.name === "etc/passwd")!;
    expect(passwd).toMatchObject({ mode: 0o600, size: 10, mtime: T + 10 });
    expect(passwd.body?.toString()).toBe("root\nuser\n");
    expect(listed.find((e) => e.name === "etc/.wh.gone")).toMatchObject({
      size: 0,
      mode: 0,
      mtime: 0,
    });
    const gnu = gnuTarList(tar);
    expect(gnu.map((l) => l.split(/ +/).slice(5).join(" "))).toEqual(listed.map((e) => e.name));
    expect(gnu[2]).toMatch(/^-rw------- \d+\/\d+ +10 2020-09-13 \d\d:\d\d etc\/passwd$/);
  });

  it("writes hardlink groups as one file and typeflag-1 links to its first path", async () => {
    const base = await tempDir();
    const upper = await tempDir();
    const first = await put(upper, "a/first", "shared", { mtime: T });
    await fs.mkdir(path.join(upper, "b"));
    await fs.link(first, path.join(upper, "a/second"));
    await fs.link(first, path.join(upper, "b/third"));
    const big = await put(upper, "big", Buffer.alloc(3 << 20, 7));
    await fs.link(big, path.join(upper, "big2"));
    const { tar } = await diffTar(base, upper);
    const listed = await listWithTarStream(tar);
    const by = new Map(listed.map((e) => [e.name, e]));
    expect(by.get("a/first")).toMatchObject({ type: "file", size: 6 });
    expect(by.get("a/second")).toMatchObject({ type: "link", linkname: "a/first", size: 0 });
    expect(by.get("b/third")).toMatchObject({ type: "link", linkname: "a/first", size: 0 });
    expect(by.get("big")).toMatchObject({ type: "file", size: 3 << 20 });
    expect(by.get("big")!.body!.equals(Buffer.alloc(3 << 20, 7))).toBe(true);
    expect(by.get("big2")).toMatchObject({ type: "link", linkname: "big" });
    expect(gnuTarList(tar)).toContainEqual(
      expect.stringMatching(/^hrw-r--r-- .* b\/third link to a\/first$/),
    );
  });

  it("records modes 4755 and 1777, symlinks and xattrs as PAX records", async () => {
    const base = await tempDir();
    const upper = await tempDir();
    await put(upper, "usr/bin/sudo", "s", { mode: 0o4755 });
    await fs.mkdir(path.join(upper, "tmp"));
    await fs.chmod(path.join(upper, "tmp"), 0o1777);
    await fs.symlink("/etc/passwd", path.join(upper, "abs-link"));
    const f = await put(upper, "x", "x");
    setXattr(f, "user.text", "hello");
    setXattr(f, "user.bin", Buffer.from([0, 0xff, 1]));
    const { tar } = await diffTar(base, upper);
    const by = new Map((await listWithTarStream(tar)).map((e) => [e.name, e]));
    expect(by.get("usr/bin/sudo")!.mode).toBe(0o4755);
    expect(by.get("tmp/")).toMatchObject({ type: "directory", mode: 0o1777 });
    expect(by.get("abs-link")).toMatchObject({ type: "symlink", linkname: "/etc/passwd" });
    expect(by.get("x")!.pax?.["SCHILY.xattr.user.text"]).toBe("hello");
    expect(tar.includes(Buffer.from("SCHILY.xattr.user.bin=\u0000\u00ff\u0001\n", "latin1"))).toBe(
      true,
    );
    const gnu = gnuTarList(tar);
    expect(gnu).toContainEqual(expect.stringMatching(/^drwxrwxrwt .* tmp\/$/));
  });

  it.skipIf(skipWithoutRoot)("records owners, mode 0222, devices and fifos (root)", async () => {
    const base = await tempDir();
    const upper = await tempDir();
    await put(upper, "ro", "r", { mode: 0o222 }); // readable by root only
    await put(upper, "owned", "o", { uid: 1, gid: 2 });
    await fs.mkdir(path.join(upper, "dev"));
    await mknod(path.join(upper, "dev/null"), "char", { major: 1, minor: 3 });
    await mknod(path.join(upper, "dev/loop0"), "block", { major: 7, minor: 0 });
    await mknod(path.join(upper, "dev/big"), "char", { major: 300, minor: 70000 });
    await mknod(path.join(upper, "dev/fifo"), "fifo");
    setXattr(path.join(upper, "owned"), "trusted.secret", "t");
    const { tar } = await diffTar(base, upper);
    const by = new Map((await listWithTarStream(tar)).map((e) => [e.name, e]));
    expect(by.get("owned")).toMatchObject({ uid: 1, gid: 2 });
    expect(by.get("ro")).toMatchObject({ mode: 0o222, size: 1 });
    expect(by.get("owned")!.pax?.["SCHILY.xattr.trusted.secret"]).toBe("t");
    expect(by.get("dev/null")).toMatchObject({
      type: "character-device",
      devmajor: 1,
      devminor: 3,
    });
    expect(by.get("dev/loop0")).toMatchObject({ type: "block-device", devmajor: 7, devminor: 0 });
    expect(by.get("dev/big")).toMatchObject({ devmajor: 300, devminor: 70000 });
    expect(by.get("dev/fifo")).toMatchObject({ type: "fifo" });
    expect(gnuTarList(tar)).toContainEqual(expect.stringMatching(/^--w--w--w- .* ro$/));
    expect(gnuTarList(tar)).toContainEqual(
      expect.stringMatching(/^crw------- 0\/0 +300,70000 .* dev\/big$/),
    );
  });

  it("takes native-differ input: explicit changes, opaque markers, no whiteouts below a deleted path", async () => {
    const src = await tempDir();
    await put(src, "d/new", "n", { mtime: T });
    const changes: LayerChange[] = [
      { kind: "modify", path: "d" },
      { kind: "opaque", path: "d" },
      { kind: "add", path: "d/new" },
      { kind: "delete", path: "gone" },
      { kind: "delete", path: "gone/child" },
      { kind: "delete", path: "gone2/child" },
    ];
    const sink = memorySink();
    const { entries } = await writeLayerTar(changes, sink, { sourceRoot: src });
    const listed = await listWithTarStream(sink.bytes());
    expect(listed.map((e) => e.name)).toEqual([
      "d/",
      "d/.wh..wh..opq",
      "d/new",
      ".wh.gone",
      "gone2/.wh.child",
    ]);
    expect(entries).toBe(5);
    await expect(
      writeLayerTar([{ kind: "add", path: "../x" }], memorySink(), { sourceRoot: src }),
    ).rejects.toThrow(/relative and normalized/);
    await expect(writeLayerTar([{ kind: "add", path: "d/new" }], memorySink())).rejects.toThrow(
      /no sourceRoot/,
    );
  });

  it("applies an xattr filter to what it reads", async () => {
    const src = await tempDir();
    const f = await put(src, "f", "f");
    setXattr(f, "user.keep", "1");
    setXattr(f, "user.drop", "1");
    const sink = memorySink();
    await writeLayerTar([{ kind: "add", path: "f" }], sink, {
      sourceRoot: src,
      xattrFilter: (n) => n !== "user.drop",
    });
    const [e] = await listWithTarStream(sink.bytes());
    expect(Object.keys(e!.pax ?? {}).filter((k) => k.startsWith("SCHILY"))).toEqual([
      "SCHILY.xattr.user.keep",
    ]);
  });
});
