import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { type Mount, MountManager, run } from "@strata/core";
import {
  applyFixture,
  assertTreesEqual,
  BASE_LAYER,
  captureTree,
  expectErrno,
  privilegeGap,
} from "@strata/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAufsMount } from "./aufs-mount-spec.js";
import { AufsSnapshotter } from "./aufs-snapshotter.js";
import { aufsMountAt } from "./fuse-mounts.js";

// These cases mount real unions through a root FUSE helper; under CI they must run.
const gap = privilegeGap();
const ci = process.env.CI === "true";
const test = gap && !ci ? it.skip : it;
const why = gap ? ` [needs root with mount rights: ${gap}]` : "";

/** setpriv's options that run a command as uid/gid 1000 with no supplementary groups. */
const AS_USER = ["--reuid", "1000", "--regid", "1000", "--clear-groups"];

describe(`aufs: POSIX behaviour through a mounted union${why}`, () => {
  let base: string;
  let sn: AufsSnapshotter;
  let mm: MountManager;
  const mountedDirs: string[] = [];

  beforeEach(async () => {
    if (gap && ci) throw new Error(`cannot run: ${gap} (CI=true forbids skipping)`);
    base = await fs.mkdtemp(path.join(os.tmpdir(), "strata-aufs-posix-"));
    await fs.chmod(base, 0o755); // other users reach the mounts below
    sn = new AufsSnapshotter(path.join(base, "aufs"));
    mm = new MountManager();
    mm.addHandler(sn.mountHandler);
  });
  afterEach(async () => {
    for (const d of mountedDirs.splice(0).reverse()) await mm.unmount(d).catch(() => {});
    await sn.close();
    await fs.rm(base, { recursive: true, force: true });
  });

  /** Mount `mounts` on a fresh directory (unmounted after the test). */
  async function mount(mounts: Mount[]): Promise<string> {
    const dir = await fs.mkdtemp(path.join(base, "mnt-"));
    await mm.mount(mounts, dir);
    mountedDirs.push(dir);
    return dir;
  }

  /** A committed base layer written by `fill`, and a mounted writable child of it. */
  async function childOf(fill: (dir: string) => Promise<void>): Promise<string> {
    await mm.withTempMount(await sn.prepare("base-active"), fill);
    await sn.commit("base", "base-active");
    return mount(await sn.prepare("child", "base"));
  }

  /** `tar` of a tree, byte for byte comparable (sorted, numeric owners, whole seconds). */
  function tarOf(dir: string): Buffer {
    return execFileSync(
      "tar",
      ["-C", dir, "--sort=name", "--numeric-owner", "--format=gnu", "-cf", "-", "."],
      { maxBuffer: 256 * 1024 * 1024 },
    );
  }

  test("cp -a of a tree into the union reads back identical with tar and captureTree", async () => {
    const src = path.join(base, "src");
    await fs.mkdir(src, { mode: 0o755 });
    await applyFixture(src, BASE_LAYER);
    const mnt = await childOf(async (dir) => {
      await fs.mkdir(path.join(dir, "lower"));
      await fs.writeFile(path.join(dir, "lower", "file"), "from the lower layer\n");
    });
    // Into a directory that comes from the lower layer: its copy-up, a merged listing.
    const copy = path.join(mnt, "lower", "copy");
    await run("cp", ["-a", src, copy]);
    assertTreesEqual(await captureTree(src), await captureTree(copy), "cp -a");
    expect(tarOf(copy).equals(tarOf(src))).toBe(true);
    expect((await fs.readdir(path.join(mnt, "lower"))).sort()).toEqual(["copy", "file"]);
  });

  test("rm -rf of a directory from a lower branch leaves nothing visible", async () => {
    const mnt = await childOf(async (dir) => {
      await fs.mkdir(path.join(dir, "tree/a/b/c"), { recursive: true });
      for (const d of ["tree", "tree/a", "tree/a/b", "tree/a/b/c"]) {
        await fs.writeFile(path.join(dir, d, "file"), d);
      }
      await fs.symlink("a", path.join(dir, "tree/link"));
    });
    await run("rm", ["-rf", path.join(mnt, "tree")]);
    await expectErrno(fs.lstat(path.join(mnt, "tree")), ["ENOENT"], "the removed tree");
    expect(await fs.readdir(mnt)).toEqual([]);
    // And it stays gone once committed, and a directory made again there starts empty.
    await fs.mkdir(path.join(mnt, "tree"));
    expect(await fs.readdir(path.join(mnt, "tree"))).toEqual([]);
    await mm.unmount(mountedDirs.pop()!);
    await sn.commit("after", "child");
    const view = await mount(await sn.view("v", "after"));
    expect(await fs.readdir(view)).toEqual(["tree"]);
    expect(await fs.readdir(path.join(view, "tree"))).toEqual([]);
  });

  test("the differ's lower lookup sees what the mounted union shows, without mounting", async () => {
    // Three layers made through the union, so aufs writes its own whiteouts and opaque
    // markers: removals, a directory replaced by a file, a file by a directory, and a
    // directory removed and made again (opaque).
    const mnt = await childOf(async (dir) => {
      for (const d of ["keep/sub", "gone/deep", "redo/old", "todir", "dirtofile/x"]) {
        await fs.mkdir(path.join(dir, d), { recursive: true });
      }
      for (const f of ["keep/a", "keep/sub/b", "gone/deep/c", "redo/old/d", "redo/e", "todir"]) {
        await fs.rm(path.join(dir, f), { recursive: true, force: true });
        await fs.writeFile(path.join(dir, f), f);
      }
      await fs.symlink("keep", path.join(dir, "link"));
    });
    await run("rm", [
      "-rf",
      path.join(mnt, "gone"),
      path.join(mnt, "redo"),
      path.join(mnt, "todir"),
    ]);
    await fs.rm(path.join(mnt, "keep/a"));
    await fs.mkdir(path.join(mnt, "redo"));
    await fs.writeFile(path.join(mnt, "redo/new"), "new");
    await fs.mkdir(path.join(mnt, "todir"));
    await fs.writeFile(path.join(mnt, "todir/in"), "in");
    await fs.rm(path.join(mnt, "dirtofile"), { recursive: true });
    await fs.writeFile(path.join(mnt, "dirtofile"), "file now");
    await mm.unmount(mountedDirs.pop()!);
    await sn.commit("mid", "child");
    const top = await mount(await sn.prepare("top-active", "mid"));
    await fs.writeFile(path.join(top, "keep/sub/b"), "changed");
    await fs.rm(path.join(top, "link"));
    await mm.unmount(mountedDirs.pop()!);
    await sn.commit("top", "top-active");

    const lower = await sn.view("v", "top");
    const { AufsDiffer } = await import("./aufs-differ.js");
    const differ = new AufsDiffer(undefined as never, undefined as never);
    const lookup = await differ.lowerLookup(lower);
    if (!lookup) throw new Error("no lower lookup for a view of aufs branches");
    const view = await mount(lower);
    const candidates = [
      ...["keep", "keep/a", "keep/sub", "keep/sub/b", "gone", "gone/deep", "gone/deep/c"],
      ...["redo", "redo/old", "redo/old/d", "redo/e", "redo/new", "todir", "todir/in"],
      ...["dirtofile", "dirtofile/x", "link", "missing", "keep/.wh.a", ".wh..wh..opq"],
    ];
    const seen = (st: import("node:fs").Stats | undefined) =>
      st && { mode: st.mode, size: st.size, mtime: Math.floor(st.mtimeMs) };
    for (const p of candidates) {
      let mounted: import("node:fs").Stats | undefined;
      try {
        mounted = await fs.lstat(path.join(view, p));
      } catch {
        mounted = undefined;
      }
      expect(seen(lookup.lstat(p)), p).toEqual(seen(mounted));
    }
    expect(lookup.lstat("redo/new")?.isFile()).toBe(true);
    expect(lookup.lstat("redo/old")).toBeUndefined();
  });

  test("a copy-up leaves the times of the directories above it as they were", async () => {
    const old = new Date("2001-02-03T04:05:06Z");
    const mnt = await childOf(async (dir) => {
      await fs.mkdir(path.join(dir, "a/b"), { recursive: true });
      for (const f of ["a/b/f", "a/b/g", "a/x"]) await fs.writeFile(path.join(dir, f), f);
      for (const d of ["a/b", "a"]) await fs.utimes(path.join(dir, d), old, old);
    });
    // Removing a/b/f copies a and a/b up; appending to a/x copies it up into a.
    await fs.rm(path.join(mnt, "a/b/f"));
    await fs.appendFile(path.join(mnt, "a/x"), "more");
    await mm.unmount(mountedDirs.pop()!);
    await sn.commit("after", "child");
    const view = await mount(await sn.view("v", "after"));
    // a itself did not change: only its contents' copy-ups touched the writable branch.
    expect((await fs.stat(path.join(view, "a"))).mtime.toISOString()).toBe(old.toISOString());
    // a/b did change (an entry was removed from it): its time is the removal's.
    expect((await fs.stat(path.join(view, "a/b"))).mtime.getTime()).toBeGreaterThan(old.getTime());
  });

  test("a renamed directory is marked opaque only where lower content of its new name is to be hidden", async () => {
    const mnt = await childOf(async (dir) => {
      for (const f of ["a/f", "b/g", "x/h", "y/i"]) {
        await fs.mkdir(path.join(dir, path.dirname(f)), { recursive: true });
        await fs.writeFile(path.join(dir, f), f);
      }
    });
    const p = (rel: string) => path.join(mnt, rel);
    // A lower directory to a fresh name: nothing to hide.
    await fs.rename(p("a"), p("c"));
    // A lower directory over a removed lower one: b/g stays hidden.
    await fs.rm(p("b"), { recursive: true });
    await fs.rename(p("x"), p("b"));
    // A directory only the writable branch holds over a removed lower one: y/i stays hidden.
    await fs.rm(p("y"), { recursive: true });
    await fs.mkdir(p("n"));
    await fs.writeFile(p("n/k"), "k");
    await fs.rename(p("n"), p("y"));
    expect((await fs.readdir(mnt)).sort()).toEqual(["b", "c", "y"]);
    expect(await fs.readdir(p("c"))).toEqual(["f"]);
    expect(await fs.readdir(p("b"))).toEqual(["h"]);
    expect(await fs.readdir(p("y"))).toEqual(["k"]);
    const branches = path.join(base, "aufs", "snapshots");
    const rw = (await fs.readdir(branches))
      .map((id) => path.join(branches, id, "fs"))
      .find((d) => existsSync(path.join(d, "c")));
    expect(rw).toBeDefined();
    const opaque = (d: string) => existsSync(path.join(rw!, d, ".wh..wh..opq"));
    expect([opaque("c"), opaque("b"), opaque("y")]).toEqual([false, true, true]);
  });

  test("a file opened before its unlink can still be read, written and fstat'ed", async () => {
    const mnt = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "lower"), "lower content\n");
    });
    await fs.writeFile(path.join(mnt, "upper"), "upper content\n");
    for (const name of ["lower", "upper"]) {
      const fh = await fs.open(path.join(mnt, name), name === "upper" ? "r+" : "r");
      await fs.unlink(path.join(mnt, name));
      await expectErrno(fs.lstat(path.join(mnt, name)), ["ENOENT"], `${name} after unlink`);
      const buf = Buffer.alloc(64);
      const { bytesRead } = await fh.read(buf, 0, 64, 0);
      expect(buf.subarray(0, bytesRead).toString()).toBe(`${name} content\n`);
      expect((await fh.stat()).size).toBe(`${name} content\n`.length);
      if (name === "upper") await fh.write("UPPER", 0);
      await fh.close();
    }
    expect(await fs.readdir(mnt)).toEqual([]);
    // Nothing of them is left in the branch or the work directory once closed.
    const spec = parseAufsMount((await sn.mounts("child"))[0]!);
    await new Promise((r) => setTimeout(r, 200)); // libfuse releases after close returns
    expect(await fs.readdir(spec.branches[0]!.root)).toEqual([".wh.lower"]);
    expect(await fs.readdir(spec.workdir!)).toEqual([]);
  });

  test("files a non-root process creates belong to its uid and gid", async () => {
    const mnt = await childOf(async (dir) => {
      await fs.mkdir(path.join(dir, "tmp"));
      await fs.chmod(path.join(dir, "tmp"), 0o1777);
      await fs.mkdir(path.join(dir, "shared"));
      await fs.chown(path.join(dir, "shared"), 0, 50);
      await fs.chmod(path.join(dir, "shared"), 0o2777);
    });
    const as = (...cmd: string[]) => run("setpriv", [...AS_USER, ...cmd]);
    const tmp = path.join(mnt, "tmp");
    await as("touch", path.join(tmp, "file"));
    await as("mkdir", path.join(tmp, "dir"));
    await as("ln", "-s", "file", path.join(tmp, "link"));
    await as("mkfifo", path.join(tmp, "fifo"));
    await as("sh", "-c", `echo data > ${path.join(tmp, "written")}`);
    for (const name of ["file", "dir", "link", "fifo", "written"]) {
      const st = await fs.lstat(path.join(tmp, name));
      expect([name, st.uid, st.gid]).toEqual([name, 1000, 1000]);
    }
    // Under a setgid directory a new entry takes the directory's group, as on any filesystem.
    await as("touch", path.join(mnt, "shared", "file"));
    await as("mkdir", path.join(mnt, "shared", "dir"));
    const f = await fs.lstat(path.join(mnt, "shared", "file"));
    const d = await fs.lstat(path.join(mnt, "shared", "dir"));
    expect([f.uid, f.gid, d.uid, d.gid, d.mode & 0o2000]).toEqual([1000, 50, 1000, 50, 0o2000]);
    // And the kernel checks access (default_permissions): the user cannot write root's files.
    await fs.writeFile(path.join(mnt, "rootfile"), "root\n");
    const denied = spawnSync("setpriv", [...AS_USER, "sh", "-c", `echo x >> ${mnt}/rootfile`]);
    expect(denied.status).not.toBe(0);
  });

  test("a killed helper is detected, and its mount cleaned at the next start", async () => {
    const mnt = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "f"), "f\n");
    });
    const [helper] = await sn.mountHandler.helpers();
    expect(helper).toMatchObject({ target: mnt, alive: true, mounted: true });
    process.kill(helper!.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    await expectErrno(fs.readFile(path.join(mnt, "f")), ["ENOTCONN"], "a dead helper's mount");
    expect(await sn.mountHandler.helpers()).toMatchObject([{ alive: false, mounted: true }]);
    // A new process on the same root (the CLI's next start) cleans it up.
    const again = new AufsSnapshotter(path.join(base, "aufs"));
    expect(await again.cleanup()).toBe(1);
    await again.close();
    expect(await aufsMountAt(mnt)).toBeUndefined();
    expect(await sn.mountHandler.helpers()).toEqual([]);
    mountedDirs.pop();
    // The snapshot itself is intact and mounts again.
    await mm.mount(await sn.mounts("child"), mnt);
    mountedDirs.push(mnt);
    expect(await fs.readFile(path.join(mnt, "f"), "utf8")).toBe("f\n");
  });

  test("touch -m, touch -a and utimes set exactly the times asked for", async () => {
    const mnt = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "f"), "f\n");
      await fs.utimes(path.join(dir, "f"), 1_000_000_000, 1_000_000_000);
    });
    const f = path.join(mnt, "f");
    await run("touch", ["-m", "-d", "@1100000000.25", f]);
    let st = await fs.stat(f);
    expect([st.atimeMs, st.mtimeMs]).toEqual([1_000_000_000_000, 1_100_000_000_250]);
    await run("touch", ["-a", "-d", "@1200000000", f]);
    st = await fs.stat(f);
    expect([st.atimeMs, st.mtimeMs]).toEqual([1_200_000_000_000, 1_100_000_000_250]);
    await fs.utimes(f, 1_300_000_000, 1_400_000_000);
    st = await fs.stat(f);
    expect([st.atimeMs, st.mtimeMs]).toEqual([1_300_000_000_000, 1_400_000_000_000]);
    const before = Date.now();
    await run("touch", [f]);
    expect((await fs.stat(f)).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
  });

  test("names AUFS reserves cannot be made, and hardlinks share one inode across copy-up", async () => {
    const mnt = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "a"), "a\n");
    });
    await expectErrno(fs.writeFile(path.join(mnt, ".wh.x"), ""), ["EPERM"], "a .wh. name");
    await expectErrno(fs.mkdir(path.join(mnt, ".wh..wh..opq")), ["EPERM"], "the opaque marker");
    const before = (await fs.stat(path.join(mnt, "a"))).ino;
    await fs.link(path.join(mnt, "a"), path.join(mnt, "b"));
    const [a, b] = [await fs.stat(path.join(mnt, "a")), await fs.stat(path.join(mnt, "b"))];
    expect([a.ino, b.ino, b.nlink]).toEqual([before, before, 2]);
    await fs.appendFile(path.join(mnt, "b"), "more\n");
    expect(await fs.readFile(path.join(mnt, "a"), "utf8")).toBe("a\nmore\n");
  });
});
