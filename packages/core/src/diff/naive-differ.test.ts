import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContentStore } from "../content/content-store.js";
import { rootContainer } from "../di.js";
import { InvalidArgumentError, NotFoundError, NotSupportedError } from "../errors.js";
import { MediaTypes } from "../image/media-types.js";
import type { Mount } from "../mount/mount.js";
import { MountManager } from "../mount/mount-manager.js";
import { Tokens } from "../tokens.js";
import { mknod } from "../util/device.js";
import { ANNOTATION_DIFF_ID, ANNOTATION_LAYER_ENTRIES, NaiveDiffer } from "./naive-differ.js";
import {
  cleanupTemp,
  copyTree,
  gnuTarList,
  listWithTarStream,
  packWithTarStream,
  put,
  setXattr,
  skipWithoutRoot,
  snapshotTree,
  tempDir,
} from "./test-support/trees.js";

const T = 1_600_000_000;
const CAP = Buffer.from("0100000200200000000000000000000000000000", "hex");
const privileged = it.skipIf(skipWithoutRoot);

let store: ContentStore;
let differ: NaiveDiffer;

beforeEach(async () => {
  store = new ContentStore(await tempDir("strata-store-"));
  differ = new NaiveDiffer(store, new MountManager([]));
});
afterEach(cleanupTemp);

const bind = (source: string, ...options: string[]): Mount[] => [{ type: "bind", source, options }];

/** A lower tree with a bit of everything, and an upper that changes all of it (root). */
async function richPair(): Promise<{ lower: string; upper: string }> {
  const lower = await tempDir();
  await put(lower, "bin/sh", "busybox", { mode: 0o755, mtime: T });
  await fs.link(path.join(lower, "bin/sh"), path.join(lower, "bin/ls"));
  await put(lower, "etc/passwd", "root:x:0:0\n", { mtime: T });
  await put(lower, "etc/shadow", "root:*:\n", { mode: 0o640, uid: 0, gid: 42, mtime: T });
  await put(lower, "etc/old.conf", "old", { mtime: T });
  for (const c of "abcdefghij") await put(lower, `var/cache/apt/${c}`, c, { mtime: T });
  await put(lower, "usr/lib/libfoo.so.1", "v1", { mtime: T });
  await fs.symlink("libfoo.so.1", path.join(lower, "usr/lib/libfoo.so"));
  await put(lower, "data/keep", "keep", { mtime: T });
  await put(lower, "data/touched", "touched", { mtime: T });
  await put(lower, "t/dir2file/child", "c", { mtime: T });
  await put(lower, "t/file2dir", "f", { mtime: T });
  await fs.symlink("target", path.join(lower, "t/link2file"));
  for (const m of ["chmod", "chown", "xattr"]) await put(lower, `meta/${m}`, m, { mtime: T });
  await fs.mkdir(path.join(lower, "dev"));
  await fs.utimes(path.join(lower, "dev"), T, T);

  const upper = await tempDir();
  copyTree(lower, upper);
  const u = (p: string) => path.join(upper, p);
  await fs.appendFile(u("etc/passwd"), "user:x:1:2\n");
  await fs.rm(u("etc/old.conf"));
  await fs.rm(u("var/cache"), { recursive: true });
  await fs.rm(u("bin/ls"));
  await put(upper, "bin/ls", "real ls", { mode: 0o755 }); // breaks the lower hardlink
  await fs.mkdir(u("tmp"));
  await fs.chmod(u("tmp"), 0o1777);
  await put(upper, "usr/bin/sudo", "sudo", { mode: 0o4755 });
  await put(upper, "usr/bin/wall", "wall", { mode: 0o2755, uid: 0, gid: 5 });
  await put(upper, "ro", "read-only", { mode: 0o222 });
  await put(upper, "home/u/.profile", "PS1=$\n", { uid: 1, gid: 2 });
  await fs.chown(u("home/u"), 1, 2);
  const h1 = await put(upper, "new/h1", "linked");
  await fs.mkdir(u("new/sub"));
  await fs.link(h1, u("new/h2"));
  await fs.link(h1, u("new/sub/h3"));
  await mknod(u("dev/null"), "char", { major: 1, minor: 3 });
  await mknod(u("dev/loop0"), "block", { major: 7, minor: 0 });
  await mknod(u("dev/big"), "char", { major: 300, minor: 70000 });
  await mknod(u("dev/fifo"), "fifo");
  await fs.chmod(u("dev/null"), 0o666);
  const xf = await put(upper, "x/user", "u");
  setXattr(xf, "user.a", "text value");
  setXattr(xf, "user.bin", Buffer.from([0, 0xff, 0x0a, 0x3d]));
  setXattr(await put(upper, "x/trusted", "t"), "trusted.t", "secret");
  setXattr(await put(upper, "x/cap", "c", { mode: 0o755 }), "security.capability", CAP);
  setXattr(u("x"), "user.dir", "d");
  await fs.symlink("/etc/passwd", u("x/abs-link"));
  setXattr(u("x/abs-link"), "trusted.onlink", "l");
  await fs.symlink("nowhere/at/all", u("x/dangling"));
  await fs.symlink(`../${"t".repeat(200)}`, u("x/long-target"));
  await put(upper, `${"deep/".repeat(60)}file`, "deep");
  await put(upper, "ünïcödé/日本語.txt", "unicode");
  await put(upper, "big/3mib", Buffer.alloc(3 << 20, 0x5a));
  await put(upper, "big/1mib", Buffer.alloc(1 << 20, 0x33));
  await put(upper, "big/empty", "");
  await fs.rm(u("usr/lib/libfoo.so"));
  await fs.symlink("libfoo.so.2", u("usr/lib/libfoo.so"));
  await put(upper, "usr/lib/libfoo.so.2", "v2");
  await fs.utimes(u("data/touched"), T + 100, T + 100);
  await fs.chmod(u("meta/chmod"), 0o600);
  await fs.chown(u("meta/chown"), 1, 2);
  setXattr(u("meta/xattr"), "user.x", "added");
  await fs.rm(u("t/dir2file"), { recursive: true });
  await put(upper, "t/dir2file", "now a file");
  await fs.rm(u("t/file2dir"));
  await put(upper, "t/file2dir/inner/x", "x");
  await fs.rm(u("t/link2file"));
  await put(upper, "t/link2file", "now a file");
  return { lower, upper };
}

async function blob(digest: string): Promise<Buffer> {
  return fs.readFile(store.blobPath(digest));
}

describe("NaiveDiffer", () => {
  it("is injectable with ContentStore and MountManager", () => {
    const c = rootContainer.createChildContainer();
    c.register(Tokens.StoreRoot, { useValue: "/nonexistent" });
    expect(c.resolve(NaiveDiffer)).toBeInstanceOf(NaiveDiffer);
  });

  privileged("diff then apply onto a copy of lower reproduces upper exactly (root)", async () => {
    const { lower, upper } = await richPair();
    const desc = await differ.diff(bind(lower), bind(upper));
    const tar = await blob(desc.digest);
    expect(desc).toMatchObject({ mediaType: MediaTypes.OciLayer, size: tar.length });
    expect(desc.digest).toBe(`sha256:${createHash("sha256").update(tar).digest("hex")}`);
    const listed = await listWithTarStream(tar);
    expect(desc.annotations?.[ANNOTATION_LAYER_ENTRIES]).toBe(String(listed.length));
    const names = listed.map((e) => e.name);
    expect(names).toContain("var/.wh.cache");
    expect(names.filter((n) => n.startsWith("var/cache"))).toEqual([]);
    expect(names).toContain("etc/.wh.old.conf");
    expect(names).not.toContain("data/keep");
    expect(names).not.toContain("opt/");
    expect(listed.find((e) => e.name === "new/sub/h3")).toMatchObject({
      type: "link",
      linkname: "new/h1",
    });
    expect(names.every((n) => !n.startsWith("/") && !n.startsWith("./"))).toBe(true);
    expect(gnuTarList(tar)).toHaveLength(listed.length);

    const target = await tempDir();
    copyTree(lower, target);
    const applied = await differ.apply(desc, bind(target));
    expect(applied).toEqual({
      mediaType: MediaTypes.OciLayer,
      digest: desc.digest,
      size: desc.size,
    });
    const want = await snapshotTree(upper);
    const got = await snapshotTree(target);
    expect(got).toEqual(want);
    expect(got["x/cap"]!.xattrs["security.capability"]).toBe(CAP.toString("hex"));
    expect(got["dev/big"]!.type).toBe("char");
    expect(got["new/sub/h3"]!.linkGroup).toBe("new/h1");
    expect(got["bin/ls"]!.linkGroup).toBeUndefined();
    // the differ finds nothing left to change
    expect((await differ.diff(bind(upper), bind(target))).size).toBe(1024);
  });

  privileged("writes a base layer GNU tar extracts into an identical tree (root)", async () => {
    const { upper } = await richPair();
    const desc = await differ.diff([], bind(upper));
    const out = await tempDir();
    execFileSync("tar", [
      "--xattrs",
      "--xattrs-include=*",
      "--numeric-owner",
      "-xpf",
      store.blobPath(desc.digest),
      "-C",
      out,
    ]);
    expect(await snapshotTree(out)).toEqual(await snapshotTree(upper));
  });

  privileged("produces the same layer through read-only bind mounts (root)", async () => {
    const lower = await tempDir();
    const upper = await tempDir();
    await put(lower, "a", "a", { mtime: T });
    await put(upper, "b/c", "c", { mtime: T });
    await fs.utimes(path.join(upper, "b"), T, T);
    const direct = await differ.diff(bind(lower), bind(upper));
    const mounted = await differ.diff(bind(lower, "ro"), bind(upper, "ro", "rbind"));
    expect(mounted.digest).toBe(direct.digest);
    const base = await differ.diff([], bind(upper, "ro"));
    expect((await listWithTarStream(await blob(base.digest))).map((e) => e.name)).toEqual([
      "b/",
      "b/c",
    ]);
  });

  privileged("diffs a kernel overlay mount against its lower dir (root)", async () => {
    const lower = await tempDir();
    await put(lower, "keep", "k", { mtime: T });
    await put(lower, "gone/x", "x", { mtime: T });
    await put(lower, "edit", "old", { mtime: T });
    const work = await tempDir();
    const [up, wk, mnt] = ["upper", "work", "mnt"].map((d) => path.join(work, d));
    for (const d of [up!, wk!, mnt!]) await fs.mkdir(d);
    const overlay: Mount[] = [
      {
        type: "overlay",
        source: "overlay",
        options: [`lowerdir=${lower}`, `upperdir=${up}`, `workdir=${wk}`],
      },
    ];
    const mm = new MountManager([]);
    await mm.mount(overlay, mnt!);
    try {
      await fs.rm(path.join(mnt!, "gone"), { recursive: true });
      await fs.writeFile(path.join(mnt!, "edit"), "new!");
      await fs.writeFile(path.join(mnt!, "added"), "a");
    } finally {
      await mm.unmount(mnt!);
    }
    const desc = await differ.diff(bind(lower, "ro"), overlay);
    const listed = await listWithTarStream(await blob(desc.digest));
    expect(listed.map((e) => e.name)).toEqual(["added", "edit", ".wh.gone"]);
  });

  privileged("writes and applies gzip layers, with the diff ID annotated (root)", async () => {
    const { lower, upper } = await richPair();
    const plain = await differ.diff(bind(lower), bind(upper));
    const gz = await differ.diff(bind(lower), bind(upper), { mediaType: MediaTypes.OciLayerGzip });
    expect(gz.mediaType).toBe(MediaTypes.OciLayerGzip);
    expect(gz.annotations?.[ANNOTATION_DIFF_ID]).toBe(plain.digest);
    expect(gz.annotations?.[ANNOTATION_LAYER_ENTRIES]).toBe(
      plain.annotations?.[ANNOTATION_LAYER_ENTRIES],
    );
    const raw = await blob(gz.digest);
    expect(raw.length).toBe(gz.size);
    expect(raw.length).toBeLessThan(plain.size);
    expect(gunzipSync(raw).equals(await blob(plain.digest))).toBe(true);
    expect(gnuTarList(raw, "-z").length).toBe(
      Number(plain.annotations?.[ANNOTATION_LAYER_ENTRIES]),
    );

    const target = await tempDir();
    copyTree(lower, target);
    const applied = await differ.apply(gz, bind(target));
    expect(applied).toEqual({
      mediaType: MediaTypes.OciLayer,
      digest: plain.digest,
      size: plain.size,
    });
    expect(await snapshotTree(target)).toEqual(await snapshotTree(upper));
  });

  it("applies zstd layers with the zstd binary, and refuses to write them", async () => {
    const src = await tempDir();
    await put(src, "z/file", "zstd content", { mtime: T });
    const plain = await differ.diff([], bind(src));
    const zst = execFileSync("zstd", ["-q", "-c"], { input: await blob(plain.digest) });
    const info = await store.put(zst);
    const target = await tempDir();
    const applied = await differ.apply(
      {
        mediaType: MediaTypes.OciLayerZstd,
        ...info,
        annotations: { [ANNOTATION_DIFF_ID]: plain.digest },
      },
      bind(target),
    );
    expect(applied.digest).toBe(plain.digest);
    expect(await fs.readFile(path.join(target, "z/file"), "utf8")).toBe("zstd content");
    await expect(
      differ.diff([], bind(src), { mediaType: MediaTypes.OciLayerZstd }),
    ).rejects.toBeInstanceOf(NotSupportedError);
  });

  it("stops the zstd process when an entry is rejected mid-layer", async () => {
    const bulk = randomBytes(4 << 20).toString("base64");
    const tar = await packWithTarStream([
      { name: "../escape", body: "x" },
      { name: "bulk", body: bulk },
    ]);
    const info = await store.put(
      execFileSync("zstd", ["-q", "-c"], { input: tar, maxBuffer: 64 << 20 }),
    );
    const target = await tempDir();
    await expect(
      differ.apply({ mediaType: MediaTypes.OciLayerZstd, ...info }, bind(target)),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await new Promise((r) => setTimeout(r, 100));
    const children = spawnSync("pgrep", ["-P", String(process.pid), "zstd"], { encoding: "utf8" });
    expect(children.stdout.trim()).toBe("");
  });

  it("rejects digest mismatches, corrupt blobs, bad media types and missing blobs", async () => {
    const src = await tempDir();
    await put(src, "f", "content", { mtime: T });
    const desc = await differ.diff([], bind(src));
    const gz = await differ.diff([], bind(src), { mediaType: MediaTypes.DockerLayerGzip });
    const target = await tempDir();
    const wrong = `sha256:${"0".repeat(64)}`;
    await expect(
      differ.apply({ ...gz, annotations: { [ANNOTATION_DIFF_ID]: wrong } }, bind(target)),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(differ.apply({ ...desc, size: desc.size + 1 }, bind(target))).rejects.toThrow(
      /mismatch/,
    );
    await expect(
      differ.apply({ ...desc, mediaType: "text/plain" }, bind(target)),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(differ.apply({ ...desc, digest: wrong }, bind(target))).rejects.toBeInstanceOf(
      NotFoundError,
    );

    // A blob whose bytes changed on disk no longer verifies against its name.
    const tampered = Buffer.from(await blob(desc.digest));
    tampered[512] = tampered[512]! ^ 1; // first byte of the file's body
    await fs.writeFile(store.blobPath(desc.digest), tampered);
    await expect(differ.apply(desc, bind(target))).rejects.toThrow(/digest mismatch/);
    const gzBytes = Buffer.from(await blob(gz.digest));
    gzBytes[gzBytes.length - 6] = gzBytes[gzBytes.length - 6]! ^ 0xff; // CRC/length trailer
    await fs.writeFile(store.blobPath(gz.digest), gzBytes);
    await expect(differ.apply(gz, bind(await tempDir()))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it("leaves no blob behind when a diff fails or is aborted", async () => {
    const src = await tempDir();
    await put(src, "f", "x");
    const ac = new AbortController();
    ac.abort();
    await expect(differ.diff([], bind(src), { signal: ac.signal })).rejects.toThrow(/abort/i);
    await expect(
      differ.diff([], bind(src), { mediaType: "application/json" }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    const blobs = [];
    for await (const b of store.list()) blobs.push(b);
    expect(blobs).toEqual([]);
    expect(await fs.readdir(path.join(store.dir, "ingest")).catch(() => [])).toEqual([]);
  });
});
