import { randomBytes } from "node:crypto";
import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { type Mount, MountManager, run } from "@strata/core";
import { expectErrno, privilegeGap } from "@strata/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAufsMount } from "./aufs-mount-spec.js";
import { AufsSnapshotter } from "./aufs-snapshotter.js";

// These cases mount real unions through a root FUSE helper; under CI they must run.
const gap = privilegeGap();
const ci = process.env.CI === "true";
const test = gap && !ci ? it.skip : it;
const why = gap ? ` [needs root with mount rights: ${gap}]` : "";

/** Whether this kernel has FUSE passthrough (Linux 6.9+, unless configured out). */
function kernelHasPassthrough(): boolean {
  const [major = 0, minor = 0] = os
    .release()
    .split(".")
    .map((n) => Number.parseInt(n, 10));
  if (major < 6 || (major === 6 && minor < 9)) return false;
  try {
    const config = gunzipSync(fsSync.readFileSync("/proc/config.gz")).toString();
    return /^CONFIG_FUSE_PASSTHROUGH=y$/m.test(config);
  } catch {
    return true; // no config to read: 6.9+ kernels build it where FUSE is built
  }
}

describe(`aufs: file data through FUSE passthrough${why}`, () => {
  let base: string;
  let sn: AufsSnapshotter;
  let mm: MountManager;
  const mountedDirs: string[] = [];

  beforeEach(async () => {
    if (gap && ci) throw new Error(`cannot run: ${gap} (CI=true forbids skipping)`);
    base = await fs.mkdtemp(path.join(os.tmpdir(), "strata-aufs-pt-"));
    await fs.chmod(base, 0o755);
    sn = new AufsSnapshotter(path.join(base, "aufs"));
    mm = new MountManager();
    mm.addHandler(sn.mountHandler);
  });
  afterEach(async () => {
    for (const d of mountedDirs.splice(0).reverse()) await mm.unmount(d).catch(() => {});
    await sn.close();
    await fs.rm(base, { recursive: true, force: true });
  });

  /** A committed base layer written by `fill`, a mounted writable child, and the base branch. */
  async function childOf(
    fill: (dir: string) => Promise<void>,
  ): Promise<{ mnt: string; lower: string; mounts: Mount[] }> {
    await mm.withTempMount(await sn.prepare("base-active"), fill);
    await sn.commit("base", "base-active");
    const mounts = await sn.prepare("child", "base");
    const lower = parseAufsMount(mounts[0]!).branches[1]!.root;
    const mnt = await fs.mkdtemp(path.join(base, "mnt-"));
    await mm.mount(mounts, mnt);
    mountedDirs.push(mnt);
    return { mnt, lower, mounts };
  }

  async function helperLogs(): Promise<string> {
    const run = path.join(base, "aufs", "run");
    const logs = (await fs.readdir(run)).filter((n) => n.endsWith(".log"));
    return (await Promise.all(logs.map((n) => fs.readFile(path.join(run, n), "utf8")))).join("");
  }

  test("reads a lower file byte for byte, with passthrough on where the kernel has it", async () => {
    const data = randomBytes(9 << 20);
    const { mnt } = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "big"), data);
    });
    expect((await fs.readFile(path.join(mnt, "big"))).equals(data)).toBe(true);
    // Twice at once, and through mmap-free partial reads at odd offsets.
    const [a, b] = await Promise.all([
      fs.readFile(path.join(mnt, "big")),
      fs.readFile(path.join(mnt, "big")),
    ]);
    expect(a.equals(data) && b.equals(data)).toBe(true);
    const fh = await fs.open(path.join(mnt, "big"), "r");
    const buf = Buffer.alloc(1000);
    await fh.read(buf, 0, 1000, 5_000_001);
    await fh.close();
    expect(buf.equals(data.subarray(5_000_001, 5_001_001))).toBe(true);
    expect((await helperLogs()).includes("FUSE passthrough on")).toBe(kernelHasPassthrough());
  });

  test("writes through passthrough land in the writable branch; the lower branch never changes", async () => {
    const { mnt, lower, mounts } = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "f"), "lower\n");
    });
    await fs.appendFile(path.join(mnt, "f"), "appended\n");
    const fh = await fs.open(path.join(mnt, "f"), "r+");
    await fh.write("LOWER", 0);
    expect((await fh.stat()).size).toBe(15);
    await fh.close();
    expect(await fs.readFile(path.join(mnt, "f"), "utf8")).toBe("LOWER\nappended\n");
    expect((await fs.stat(path.join(mnt, "f"))).size).toBe(15);
    expect(await fs.readFile(path.join(lower, "f"), "utf8")).toBe("lower\n");
    const upper = parseAufsMount(mounts[0]!).branches[0]!.root;
    expect(await fs.readFile(path.join(upper, "f"), "utf8")).toBe("LOWER\nappended\n");
  });

  test("a lower file open for reading: opening it for writing fails with ETXTBSY, and works once it is closed", async () => {
    const { mnt, lower } = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "f"), "lower\n");
    });
    const reader = await fs.open(path.join(mnt, "f"), "r");
    try {
      await expectErrno(fs.open(path.join(mnt, "f"), "a"), ["ETXTBSY"], "writable open");
      // Other readers still read it (from the copy the refused open made).
      expect(await fs.readFile(path.join(mnt, "f"), "utf8")).toBe("lower\n");
      const buf = Buffer.alloc(16);
      const { bytesRead } = await reader.read(buf, 0, 16, 0);
      expect(buf.subarray(0, bytesRead).toString()).toBe("lower\n");
    } finally {
      await reader.close();
    }
    // Right after the close (libfuse hears of it a little later): writing works.
    await fs.appendFile(path.join(mnt, "f"), "more\n");
    expect(await fs.readFile(path.join(mnt, "f"), "utf8")).toBe("lower\nmore\n");
    expect(await fs.readFile(path.join(lower, "f"), "utf8")).toBe("lower\n");
  });

  test("a file with two names: writes through one show in the other's size and content", async () => {
    const { mnt } = await childOf(async () => {});
    await fs.writeFile(path.join(mnt, "a"), "one\n");
    await fs.link(path.join(mnt, "a"), path.join(mnt, "b"));
    const reader = await fs.open(path.join(mnt, "a"), "r");
    expect((await fs.stat(path.join(mnt, "a"))).size).toBe(4);
    await fs.appendFile(path.join(mnt, "b"), "two\n");
    expect((await fs.stat(path.join(mnt, "a"))).size).toBe(8);
    expect(await fs.readFile(path.join(mnt, "a"), "utf8")).toBe("one\ntwo\n");
    const writer = await fs.open(path.join(mnt, "a"), "a"); // while the reader is open
    await writer.write("three\n");
    await writer.close();
    await reader.close();
    expect((await fs.stat(path.join(mnt, "b"))).size).toBe(14);
    expect(await fs.readFile(path.join(mnt, "b"), "utf8")).toBe("one\ntwo\nthree\n");
  });

  test("a directory made through the union, answered natively: an open file unlinked, a copied-up file moved in", async () => {
    const { mnt } = await childOf(async (dir) => {
      await fs.writeFile(path.join(dir, "lower"), "from below\n");
    });
    const originIno = (await fs.stat(path.join(mnt, "lower"))).ino;
    await fs.mkdir(path.join(mnt, "made/sub"), { recursive: true });
    await fs.writeFile(path.join(mnt, "made/sub/a"), "a\n");
    expect((await fs.stat(path.join(mnt, "made/sub/a"))).size).toBe(2);
    const fh = await fs.open(path.join(mnt, "made/sub/a"), "r");
    await fs.unlink(path.join(mnt, "made/sub/a"));
    expect((await fh.stat()).size).toBe(2);
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    expect(buf.subarray(0, bytesRead).toString()).toBe("a\n");
    await fh.close();
    await fs.appendFile(path.join(mnt, "lower"), "changed\n"); // a copy-up
    await fs.rename(path.join(mnt, "lower"), path.join(mnt, "made/sub/moved"));
    const st = await fs.stat(path.join(mnt, "made/sub/moved"));
    expect(st.ino).toBe(originIno);
    expect(st.size).toBe(19);
    expect(await fs.readdir(path.join(mnt, "made/sub"))).toEqual(["moved"]);
    await expectErrno(fs.lstat(path.join(mnt, "made/sub/a")), ["ENOENT"], "the unlinked file");
  });

  test("files made in a directory only the writable branch holds (made natively) belong to their creator", async () => {
    const { mnt, mounts } = await childOf(async () => {});
    await fs.mkdir(path.join(mnt, "made"));
    await fs.chmod(path.join(mnt, "made"), 0o1777);
    await fs.mkdir(path.join(mnt, "sgid"));
    await fs.chown(path.join(mnt, "sgid"), 0, 50);
    await fs.chmod(path.join(mnt, "sgid"), 0o2777);
    await fs.readdir(path.join(mnt, "made")); // the union now answers it natively
    const script = `: > ${mnt}/made/mine && : > ${mnt}/sgid/grouped && mkdir ${mnt}/made/d && : > ${mnt}/made/d/deeper`;
    await run("setpriv", [
      "--reuid",
      "1000",
      "--regid",
      "1000",
      "--clear-groups",
      "sh",
      "-c",
      script,
    ]);
    const upper = parseAufsMount(mounts[0]!).branches[0]!.root;
    for (const [rel, gid] of [
      ["made/mine", 1000],
      ["sgid/grouped", 50],
      ["made/d/deeper", 1000],
    ] as const) {
      for (const root of [mnt, upper]) {
        const st = await fs.stat(path.join(root, rel));
        expect([st.uid, st.gid], `${root}/${rel}`).toEqual([1000, gid]);
      }
    }
    await fs.writeFile(path.join(mnt, "made/x"), "x", { mode: 0o4755 });
    expect((await fs.stat(path.join(mnt, "made/x"))).mode & 0o7777).toBe(0o4755);
    await expectErrno(fs.writeFile(path.join(mnt, "made/.wh.x"), ""), ["EPERM"], ".wh. name");
    expect((await fs.readdir(path.join(mnt, "made"))).sort()).toEqual(["d", "mine", "x"]);
  });
});
