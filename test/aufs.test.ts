/**
 * End-to-end tests of the aufs driver (issue #8) through the CLI: it is usable here and
 * picked with `--storage-driver aufs`; a busybox container that creates, modifies, deletes
 * and renames files shows exactly those changes in `diff`; the container's writable branch
 * on disk is in AUFS's format and is what `commit` stores; no union outlives a command;
 * and a union whose FUSE helper was killed under a running container is cleaned up by the
 * next command. The driver's own conformance and POSIX tests live in its package.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ContentStore, readTar } from "@strata/core";
import { afterAll, beforeAll, describe, expect } from "vitest";
import {
  eventually,
  importSeedImage,
  itAsRoot,
  mountsBelow,
  removeAllContainers,
} from "./helpers/containers.js";
import { cleanupTempDirs, createStrata, type StrataCli } from "./helpers/strata.js";

afterAll(cleanupTempDirs);

/** Changes of each kind, made inside the container. */
const CHANGES = [
  "echo created > /created",
  "echo modified >> /etc/group",
  "rm /bin/ls",
  "rm -rf /root",
  "mv /etc/passwd /etc/passwd.old",
  "mkdir /tmp/dir && echo in > /tmp/dir/f",
  "mv /tmp/dir /moved",
].join(" && ");

/** Names of a stored layer's entries, in order. */
async function layerNames(root: string, digest: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(await new ContentStore(root).open(digest))) {
    out.push(e.header.name);
    for await (const _ of e.chunks()) {
      // bodies skipped
    }
  }
  return out;
}

/** aufs mounts (fuse.aufs) of this mount namespace at or below `dir`. */
async function aufsMountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .filter((l) => l.includes(" - fuse.aufs "))
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

describe("the aufs driver through the CLI", () => {
  let cli: StrataCli;

  beforeAll(async () => {
    cli = await createStrata({ driver: "aufs" });
    await importSeedImage(cli, "seed");
  });
  afterAll(() => removeAllContainers(cli));

  itAsRoot("is usable, selected by --storage-driver aufs, with its native differ", async () => {
    const info = await cli.ok("info");
    expect(info).toMatch(/^ Storage Driver: aufs$/m);
    expect(info).toMatch(/^ {2}aufs: usable$/m);
    expect(info).toContain("  Differ: AufsDiffer\n");
  });

  itAsRoot(
    "a container's changes show in diff, its branch is AUFS's, commit stores it",
    async () => {
      expect(await cli.ok("run", "--name", "changes", "seed", "sh", "-c", CHANGES)).toBe("");
      expect(await cli.ok("diff", "changes")).toBe(
        [
          "C /bin",
          "D /bin/ls",
          "A /created",
          "C /etc",
          "C /etc/group",
          "D /etc/passwd",
          "A /etc/passwd.old",
          "A /moved",
          "A /moved/f",
          "D /root",
          "C /tmp",
          "",
        ].join("\n"),
      );
      // The writable branch holds exactly that, whiteouts as AUFS writes them.
      const snapshots = join(cli.root, "aufs", "snapshots");
      const branches = (await readdir(snapshots)).map((id) => join(snapshots, id, "fs"));
      const upper = (
        await Promise.all(
          branches.map(async (b) => ((await readdir(b)).includes("created") ? b : "")),
        )
      ).find(Boolean)!;
      expect((await readdir(upper)).sort()).toEqual([
        ".wh.root",
        "bin",
        "created",
        "etc",
        "moved",
        "tmp",
      ]);
      expect(await readdir(join(upper, "bin"))).toEqual([".wh.ls"]);
      expect((await readdir(join(upper, "etc"))).sort()).toEqual([
        ".wh.passwd",
        "group",
        "passwd.old",
      ]);
      const imageId = (await cli.ok("commit", "changes", "changed")).trim();
      const layers: string[] = JSON.parse(await cli.ok("image", "inspect", imageId))[0].RootFS
        .Layers;
      const names = await layerNames(cli.root, layers.at(-1)!);
      expect(names).toEqual(
        expect.arrayContaining(["bin/.wh.ls", ".wh.root", "etc/.wh.passwd", "moved/f", "created"]),
      );
      expect(names).not.toContain("bin/busybox");
      // The committed image runs with the changes.
      const out = await cli.ok(
        "run",
        "--rm",
        "changed",
        "sh",
        "-c",
        "cat /created /moved/f; ls /root /bin/ls 2>&1 | wc -l",
      );
      expect(out).toBe("created\nin\n2\n");
      expect(await aufsMountsBelow(cli.root)).toEqual([]);
    },
  );

  itAsRoot(
    "a union whose FUSE helper was killed under a running container is cleaned up",
    async () => {
      await cli.ok("run", "-d", "--name", "victim", "seed", "sleep", "300");
      const [mp] = await aufsMountsBelow(cli.root);
      expect(mp).toBeDefined();
      const run = join(cli.root, "aufs", "run");
      const records = await Promise.all(
        (await readdir(run))
          .filter((f) => f.endsWith(".json"))
          .map(async (f) => JSON.parse(await readFile(join(run, f), "utf8"))),
      );
      const helper = records.find((r) => r.target === mp);
      expect(helper).toBeDefined();
      process.kill(helper.pid, "SIGKILL");
      await eventually(async () => {
        try {
          process.kill(helper.pid, 0);
          return false;
        } catch {
          return true;
        }
      });
      // The next command notices the dead helper: its mount is aborted and unmounted.
      await cli.ok("ps", "-a");
      expect(await aufsMountsBelow(cli.root)).toEqual([]);
      await cli.ok("rm", "-f", "victim");
      expect(await mountsBelow(cli.root)).toEqual([]);
    },
  );
});
