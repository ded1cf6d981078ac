/**
 * End-to-end tests of containers across drivers and across failures (issue #4): a
 * container is used through the driver it was created with whatever driver the store
 * used last, an explicit other driver is refused with the one to use, and a container
 * whose supervisor died is recorded as exited (255, as docker reports containers that
 * died with their daemon) with its rootfs unmounted.
 */
import { readdir, readFile } from "node:fs/promises";
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

/** PIDs of processes whose command line contains every one of `words`. */
async function pidsWith(...words: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (words.every((w) => cmdline.includes(w))) out.push(Number(name));
  }
  return out;
}

describe("containers across drivers and failures", () => {
  let cli: StrataCli;

  beforeAll(async () => {
    cli = await createStrata();
    await cli.ok("--storage-driver", "overlay", "images");
    await importSeedImage(cli, "seed");
  });
  afterAll(() => removeAllContainers(cli));

  itAsRoot("a container is used through its own driver unless another is asked for", async () => {
    await cli.ok(
      "--storage-driver",
      "overlay",
      "create",
      "--name",
      "onoverlay",
      "seed",
      "touch",
      "/x",
    );
    await cli.ok("--storage-driver", "vfs", "create", "--name", "onvfs", "seed", "touch", "/y");
    // The store used vfs last; the overlay container still runs on overlay.
    expect(await cli.ok("start", "-a", "onoverlay")).toBe("");
    expect(await cli.ok("diff", "onoverlay")).toBe("A /x\n");
    // Reaching a container on its own driver does not change the store's last driver.
    expect(await cli.ok("info")).toContain(" Storage Driver: vfs\n");
    const wrong = await cli.run("--storage-driver", "vfs", "diff", "onoverlay");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      'Error: container onoverlay: created with storage driver "overlay", but strata is using "vfs"; run it with --storage-driver overlay\n',
    );
    await cli.ok("--storage-driver", "overlay", "images"); // overlay is now the last driver
    expect(await cli.ok("start", "-a", "onvfs")).toBe("");
    expect(await cli.ok("diff", "onvfs")).toBe("A /y\n");
    const ps = await cli.ok("ps", "-a");
    expect(ps).toContain("onoverlay");
    expect(ps).toContain("onvfs");
    expect(await cli.ok("rm", "onoverlay", "onvfs")).toBe("onoverlay\nonvfs\n");
    expect(await mountsBelow(cli.root)).toEqual([]);
  });

  itAsRoot(
    "a container whose supervisor died is recorded as exited (255) and unmounted",
    async () => {
      const id = (
        await cli.ok(
          "--storage-driver",
          "overlay",
          "run",
          "-d",
          "--name",
          "orphan",
          "seed",
          "sleep",
          "600",
        )
      ).trim();
      const supervisors = await pidsWith("supervisor.js", id);
      expect(supervisors).toHaveLength(1);
      process.kill(supervisors[0]!, "SIGKILL");
      await eventually(async () => (await pidsWith("supervisor.js", id)).length === 0);
      // runc still runs the container: it is up, only its watcher is gone.
      expect(await cli.ok("ps")).toMatch(/Up .+ orphan\n/);
      expect(await mountsBelow(cli.root)).toHaveLength(1);
      await cli.ok("kill", "orphan");
      expect(await cli.ok("ps", "-a")).toMatch(/Exited \(255\) .+ orphan\n/);
      expect(await mountsBelow(cli.root)).toEqual([]);
      // It starts again as any stopped container does.
      await cli.ok("start", "orphan");
      expect(await cli.ok("ps")).toMatch(/Up .+ orphan\n/);
      await cli.ok("rm", "-f", "orphan");
      expect(await mountsBelow(cli.root)).toEqual([]);
    },
  );
});
