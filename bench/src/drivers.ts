import * as fs from "node:fs/promises";
import {
  type ContentStore,
  type Differ,
  isReadOnly,
  type Mount,
  type MountManager,
  NaiveDiffer,
  type Snapshotter,
} from "@strata/core";
import { AufsDiffer, AufsSnapshotter, probeAufs } from "@strata/driver-aufs";
import { OverlayDiffer, OverlaySnapshotter, probeOverlay } from "@strata/driver-overlay";
import { VfsSnapshotter } from "@strata/driver-vfs";

/** The drivers the bench knows, in the order they run. */
export const DRIVER_NAMES = ["vfs", "overlay", "aufs"] as const;
/** One of {@link DRIVER_NAMES}. */
export type DriverName = (typeof DRIVER_NAMES)[number];

/** A differ under test: the driver's native one, or core's naive one on the same mounts. */
export interface DifferUnderTest {
  kind: "native" | "naive";
  differ: Differ;
  /**
   * The workloads it is measured on, when not all, and then for commits only: core's
   * naive differ on aufs mounts two unions (two helper processes) per call and walks both
   * through FUSE (35 s for the container workload on a busy machine); it is only aufs'
   * fallback, so one workload shows its cost.
   */
  only?: readonly string[];
}

/** A driver wired as a third party would wire it: snapshotter and differs, no CLI. */
export interface DriverRig {
  name: DriverName;
  snapshotter: Snapshotter;
  /** The differs measured for diff: native first where the driver has one. */
  differs: DifferUnderTest[];
  /** The differ strata applies layers with on this driver (native where there is one). */
  applier: Differ;
  /** What the report should say about the driver (native diff off, and why). */
  notes: string[];
}

/** A driver that could be wired here, or the reason it cannot. */
export type RigResult =
  | { ok: true; rig: DriverRig }
  | { ok: false; name: DriverName; reason: string };

/**
 * Wire driver `name` on `root` (its own directory) with the shared content store and mount
 * manager. Overlay runs its probe first: not root, no overlayfs or a bad backing
 * filesystem make it unavailable with the probe's reason; a kernel where native diff is
 * unsafe leaves only the naive differ, with a note. Aufs runs its probe (root, FUSE, the
 * helper built, a real test union) and adds its `fuse.aufs` mount handler to `mounts`: its
 * unions are served by a helper process per mount, never by the bench's own process.
 */
export async function openRig(
  name: DriverName,
  root: string,
  store: ContentStore,
  mounts: MountManager,
): Promise<RigResult> {
  await fs.mkdir(root, { recursive: true });
  const naive = new NaiveDiffer(store, mounts);
  if (name === "vfs") {
    const rig: DriverRig = {
      name,
      snapshotter: new VfsSnapshotter(root),
      differs: [{ kind: "naive", differ: naive }],
      applier: naive,
      notes: [],
    };
    return { ok: true, rig };
  }
  if (name === "aufs") {
    let backing: string;
    try {
      backing = (await probeAufs(root)).backingFilesystem;
    } catch (err) {
      return { ok: false, name, reason: err instanceof Error ? err.message : String(err) };
    }
    const snapshotter = new AufsSnapshotter(root);
    mounts.addHandler(snapshotter.mountHandler);
    const native = new AufsDiffer(store, naive);
    const differs: DifferUnderTest[] = [
      { kind: "native", differ: native },
      { kind: "naive", differ: naive, only: ["small-files"] },
    ];
    const notes = [`backing filesystem ${backing}`, "unions served by a FUSE helper process"];
    return { ok: true, rig: { name, snapshotter, differs, applier: native, notes } };
  }
  let probe: Awaited<ReturnType<typeof probeOverlay>>;
  try {
    probe = await probeOverlay(root);
  } catch (err) {
    return { ok: false, name, reason: err instanceof Error ? err.message : String(err) };
  }
  const snapshotter = new OverlaySnapshotter(root, probe);
  const notes = [`backing filesystem ${probe.backingFilesystem}`];
  if (!probe.nativeDiff) {
    notes.push(`native diff off: ${probe.nativeDiffReason ?? "unsafe on this kernel"}`);
    return {
      ok: true,
      rig: {
        name,
        snapshotter,
        differs: [{ kind: "naive", differ: naive }],
        applier: naive,
        notes,
      },
    };
  }
  const native = new OverlayDiffer(store, naive);
  const differs: DifferUnderTest[] = [
    { kind: "native", differ: native },
    { kind: "naive", differ: naive },
  ];
  return { ok: true, rig: { name, snapshotter, differs, applier: native, notes } };
}

/**
 * Where the tree behind a container's mounts keeps its own files, read from the mounts
 * (which are data): an overlay mount's `upperdir=` holds exactly the change (`whole`), and
 * so does an aufs union's writable branch (the first of `br=`, AUFS-format: the layer's
 * content as it stands); a writable bind (vfs, or a base snapshot) is the whole tree, of
 * which only the layer's entries are the change.
 */
export function changeDir(mounts: readonly Mount[]): { dir: string; whole: boolean } {
  const m = onlyMount(mounts);
  if (m.type === "overlay") {
    const upper = m.options.find((o) => o.startsWith("upperdir="));
    if (upper) return { dir: upper.slice("upperdir=".length), whole: true };
  }
  if (m.type === "fuse.aufs") {
    const br = m.options.find((o) => o.startsWith("br="));
    const top = br?.slice("br=".length).split(":")[0];
    if (top?.endsWith("=rw")) return { dir: top.slice(0, -"=rw".length), whole: true };
  }
  if (m.type === "bind") return { dir: m.source, whole: false };
  throw new Error(`mount type "${m.type}": the bench cannot find its files`);
}

/**
 * The directory behind an empty snapshot's mounts, which apply fills and the bench empties
 * between samples. Every driver here hands out a new snapshot without a parent as one
 * writable bind mount.
 */
export function writableDir(mounts: readonly Mount[]): string {
  const m = onlyMount(mounts);
  if (m.type !== "bind" || isReadOnly(m) || m.target) {
    throw new Error(
      `mount type "${m.type}" (${m.options.join(",")}): not a plain writable directory`,
    );
  }
  return m.source;
}

function onlyMount(mounts: readonly Mount[]): Mount {
  if (mounts.length !== 1 || !mounts[0])
    throw new Error(`expected one mount, got ${mounts.length}`);
  return mounts[0];
}
