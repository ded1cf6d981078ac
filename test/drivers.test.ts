/**
 * End-to-end tests of driver selection and driver switching (issue #3): overlay chosen
 * first when it works, the store remembering its driver, images usable on every driver
 * without re-import, layer snapshots of a driver pruned after an rmi made with another one,
 * and no mount outliving a command (stale ones of killed processes cleaned at start).
 */
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processAlive } from "@strata/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  run,
} from "./helpers/strata.js";

let busyboxTar: string;

beforeAll(async () => {
  busyboxTar = await makeBusyboxRootfs(await makeTempDir());
});
afterAll(cleanupTempDirs);

/** Mount points (from /proc/self/mountinfo) under `dir`. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Snapshot directories a driver holds in a store. */
async function snapshotDirs(root: string, driver: string): Promise<string[]> {
  return readdir(join(root, driver, "snapshots")).catch(() => []);
}

describe("storage driver auto-selection and switching", () => {
  it("picks overlay first, remembers it, and shows the choice in info", async () => {
    const cli = await createStrata();
    await cli.ok("import", busyboxTar, "busybox");
    const info = await cli.ok("info");
    expect(info).toMatch(/ Storage Driver: overlay\n {2}Backing Filesystem: \S+\n/);
    expect(info).toContain("  Native Overlay Diff: true\n");
    expect(info).toContain("  Differ: OverlayDiffer\n");
    expect(await snapshotDirs(cli.root, "overlay")).toHaveLength(1);
    // The store now used overlay last; an explicit vfs run switches it, auto follows.
    await cli.ok("--storage-driver", "vfs", "images");
    expect(await cli.ok("info")).toContain(" Storage Driver: vfs\n");
  });

  it("uses one image on every driver without importing it again, and prunes after rmi", async () => {
    const cli = await createStrata();
    const id = (
      await cli.ok("--storage-driver", "overlay", "import", busyboxTar, "busybox")
    ).trim();
    const blobsBefore = await readdir(join(cli.root, "content/blobs/sha256"));
    // vfs sees the same image; its inspect names its own driver.
    const inspected = JSON.parse(await cli.ok("--storage-driver", "vfs", "inspect", "busybox"));
    expect(inspected[0].Id).toBe(id);
    expect(inspected[0].GraphDriver.Name).toBe("vfs");
    expect(await readdir(join(cli.root, "content/blobs/sha256"))).toEqual(blobsBefore);
    // rmi while vfs is selected removes the image; overlay's layer goes at its next start.
    expect(await cli.ok("--storage-driver", "vfs", "rmi", "busybox")).toContain(`Deleted: ${id}\n`);
    expect(await snapshotDirs(cli.root, "overlay")).toHaveLength(1);
    await cli.ok("--storage-driver", "overlay", "images");
    expect(await snapshotDirs(cli.root, "overlay")).toEqual([]);
  });

  it("leaves nothing mounted after a command and clears mounts of killed processes", async () => {
    const cli = await createStrata({ driver: "overlay" });
    await cli.ok("import", busyboxTar, "busybox");
    expect(await mountsUnder(cli.root)).toEqual([]);
    // Other strata processes on this machine may hold live temp mounts; none may be stale
    // (belong to a process that has ended).
    const staleMounts = (await mountsUnder(tmpdir())).filter((m) => {
      const pid = /\/strata-mnt-(\d+)-/.exec(m)?.[1];
      return pid !== undefined && !processAlive(Number(pid));
    });
    expect(staleMounts).toEqual([]);

    // A process killed while it had a tree mounted leaves a temp mount behind.
    const dead = spawnSync("true").pid;
    const stale = join(tmpdir(), `strata-mnt-${dead}-abcdef`);
    const src = await makeTempDir();
    await mkdir(stale);
    expect((await run("mount", ["--bind", src, stale])).code).toBe(0);
    expect(await mountsUnder(stale)).toEqual([stale]);
    await cli.ok("images");
    expect(await mountsUnder(stale)).toEqual([]);
    await expect(readdir(stale)).rejects.toThrow();
    await rm(stale, { recursive: true, force: true });
  });

  it("refuses overlay with the reason when its root cannot be an upper", async () => {
    // A store whose driver root sits on an overlay mount: overlay cannot stack there.
    const base = await makeTempDir();
    for (const d of ["lower", "upper", "work", "merged"]) await mkdir(join(base, d));
    const opts = `lowerdir=${join(base, "lower")},upperdir=${join(base, "upper")},workdir=${join(base, "work")}`;
    expect(
      (await run("mount", ["-t", "overlay", "overlay", "-o", opts, join(base, "merged")])).code,
    ).toBe(0);
    try {
      const cli = await createStrata({ root: join(base, "merged", "store") });
      const r = await cli.run("--storage-driver", "overlay", "images");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^Error: overlay: the backing filesystem overlay of .* cannot be an overlay upper\n$/,
      );
      // Auto-selection moves on and says why overlay was passed over.
      expect(await cli.ok("images")).toMatch(/^REPOSITORY/);
      const info = await cli.ok("info");
      // aufs (FUSE) can live on an overlay-backed root; vfs always can.
      expect(info).toMatch(/ Storage Driver: (aufs|vfs)\n/);
      expect(info).toMatch(/ {2}overlay: not supported \(the backing filesystem overlay/);
    } finally {
      await run("umount", ["-l", join(base, "merged")]);
    }
  });
});
