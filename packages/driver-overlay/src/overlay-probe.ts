import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  backingFilesystem,
  isMountPoint,
  NotSupportedError,
  ProbeCache,
  processAlive,
  readXattrs,
  run,
} from "@strata/core";
import { OVERLAY_FIXED_OPTIONS } from "./overlay-snapshotter.js";

/** Filesystems that cannot hold an overlay upper directory (docker's overlay2 list). */
const BAD_BACKING = new Set([
  "overlay",
  "aufs",
  "ecryptfs",
  "fuse.overlayfs",
  "fuse.aufs",
  "nfs",
  "nfs4",
  "zfs",
]);

/** What the probe learned; `info` shows it. */
export interface OverlayProbeResult {
  backingFilesystem: string;
  /** Whether the native differ can read upper directories directly on this kernel. */
  nativeDiff: boolean;
  /** Why native diff is off, when it is. */
  nativeDiffReason?: string;
}

/**
 * Version of what {@link probeOverlay} checks; a remembered verdict from another version is
 * not used. Bump it when the probe's test changes.
 */
const PROBE_VERSION = "overlay-1";

/** Options of {@link probeOverlay}. */
export interface ProbeOverlayOptions {
  /**
   * Use and keep the verdict remembered in `root` ({@link ProbeCache}): when the kernel,
   * the boot, the backing filesystem and strata's fixed mount options are those of the last
   * successful test mount, skip it. The checks before the test mount always run.
   */
  cache?: boolean;
}

async function mountOverlay(options: string, target: string): Promise<void> {
  await run("mount", ["-t", "overlay", "overlay", "-o", options, target]);
}

/**
 * Check that kernel overlayfs works for this root (docker's `supportsOverlay` and
 * `doesSupportNativeDiff`): root privileges, overlay in the kernel, a backing filesystem
 * that can be an upper, a real two-lower mount that accepts strata's fixed options, and
 * whether a directory recreated over a lower one gets the opaque flag in the upper (without
 * it, the upper directory does not say that lower content is hidden, and native diff would
 * be wrong).
 * @throws NotSupportedError with the reason when overlay cannot work here.
 */
export async function probeOverlay(
  root: string,
  opts: ProbeOverlayOptions = {},
): Promise<OverlayProbeResult> {
  if (process.getuid?.() !== 0)
    throw new NotSupportedError("overlay: needs root (mounting overlayfs is privileged)");
  let filesystems = await fs.readFile("/proc/filesystems", "utf8").catch(() => "");
  if (!/\toverlay\n/.test(filesystems)) {
    await run("modprobe", ["overlay"]).catch(() => {});
    filesystems = await fs.readFile("/proc/filesystems", "utf8").catch(() => "");
    if (!/\toverlay\n/.test(filesystems))
      throw new NotSupportedError("overlay: the kernel has no overlay filesystem");
  }
  await fs.mkdir(root, { recursive: true });
  const backing = await backingFilesystem(root);
  if (BAD_BACKING.has(backing)) {
    throw new NotSupportedError(
      `overlay: the backing filesystem ${backing} of ${root} cannot be an overlay upper`,
    );
  }
  await clearDeadProbes(root);
  if (!opts.cache) return testMount(root, backing);
  const cache = new ProbeCache<OverlayProbeResult>(
    root,
    await ProbeCache.fingerprint({
      probe: PROBE_VERSION,
      backingFilesystem: backing,
      options: OVERLAY_FIXED_OPTIONS.join(","),
    }),
  );
  const known = await cache.read();
  if (known) return known;
  const result = await testMount(root, backing);
  await cache.write(result);
  return result;
}

/** Mount a real overlay under `root` and check native diff on it (see {@link probeOverlay}). */
async function testMount(root: string, backing: string): Promise<OverlayProbeResult> {
  const dir = await fs.mkdtemp(path.join(root, `probe-${process.pid}-`));
  const [l1, l2, upper, work, merged] = ["l1", "l2", "upper", "work", "merged"].map((d) =>
    path.join(dir, d),
  ) as [string, string, string, string, string];
  let mounted = false;
  try {
    for (const d of [l1, l2, upper, work, merged]) await fs.mkdir(d);
    await fs.mkdir(path.join(l2, "d"));
    await fs.writeFile(path.join(l2, "d", "f"), "x");
    const opts = [
      ...OVERLAY_FIXED_OPTIONS,
      `lowerdir=${l1}:${l2}`,
      `upperdir=${upper}`,
      `workdir=${work}`,
    ].join(",");
    try {
      await mountOverlay(opts, merged);
      mounted = true;
    } catch (err) {
      throw new NotSupportedError(
        `overlay: a test mount on ${backing} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    // docker's native-diff check: a directory removed and recreated must come out opaque.
    await fs.rm(path.join(merged, "d"), { recursive: true });
    await fs.mkdir(path.join(merged, "d"));
    const opaque = readXattrs(path.join(upper, "d"))?.get("trusted.overlay.opaque");
    if (opaque?.toString() !== "y") {
      return {
        backingFilesystem: backing,
        nativeDiff: false,
        nativeDiffReason: "the kernel does not mark recreated directories opaque",
      };
    }
    return { backingFilesystem: backing, nativeDiff: true };
  } finally {
    if (mounted) await run("umount", [merged]).catch(() => run("umount", ["-l", merged]));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Unmount and remove probe directories of probes whose process was killed midway. */
async function clearDeadProbes(root: string): Promise<void> {
  for (const name of await fs.readdir(root).catch(() => [] as string[])) {
    const m = /^probe-(\d+)-/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const merged = path.join(root, name, "merged");
    if (await isMountPoint(merged)) await run("umount", ["-l", merged]).catch(() => {});
    await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** The kernel release, for `info`. */
export function kernelRelease(): string {
  return os.release();
}
