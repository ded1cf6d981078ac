/**
 * Helpers for the container end-to-end suites: the drivers they loop over, the rule for
 * privileged cases (they need root for runc and mounts: skipped with the reason when not
 * root, never skipped under `CI=true`), and a busybox image with the seed's config.
 */
import { readFile } from "node:fs/promises";
import { it } from "vitest";
import { makeBusyboxRootfs, makeTempDir, type StrataCli } from "./strata.js";

/** The drivers the container suites run on. */
export const CONTAINER_DRIVERS = ["vfs", "overlay", "aufs"] as const;

const isRoot = process.getuid?.() === 0;

/**
 * `it` for cases that run containers: they need root (runc, mounts). Outside CI a non-root
 * run skips them, saying why; under `CI=true` they always run.
 */
export const itAsRoot: typeof it =
  isRoot || process.env.CI === "true" ? it : (it.skip as unknown as typeof it);

if (!isRoot && process.env.CI !== "true") {
  console.warn("container tests skipped: running containers needs root (runc, mounts)");
}

/** A busybox rootfs tar (made once per file). */
let tarPromise: Promise<string> | undefined;
export function busyboxTar(): Promise<string> {
  tarPromise ??= makeTempDir().then((d) => makeBusyboxRootfs(d));
  return tarPromise;
}

/** Import busybox as `name` with the seed's config change, `ENV HOSTNAME=shiyanlou`. */
export async function importSeedImage(cli: StrataCli, name = "seed"): Promise<string> {
  const tar = await busyboxTar();
  return (
    await cli.ok("import", "-c", "ENV HOSTNAME=shiyanlou", "-c", 'CMD ["/bin/sh"]', tar, name)
  ).trim();
}

/** Mount points (from /proc/self/mountinfo) at or below `dir`. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Wait until `fn` returns true (polling every 100 ms), or fail after `ms`. */
export async function eventually(fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Kill and remove every container of a store (for `afterAll`): a test that failed half-way
 * must not leave a container running, or its rootfs mounted, after its store is deleted.
 */
export async function removeAllContainers(cli: StrataCli): Promise<void> {
  const r = await cli.run("ps", "-a", "-q", "--no-trunc");
  const ids = r.stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await cli.run("rm", "-f", ...ids);
}
