import * as fs from "node:fs";
import * as path from "node:path";
import type { Mount } from "../mount/mount.js";
import type { MountManager } from "../mount/mount-manager.js";
import type { Differ, LowerLookup } from "./differ.js";
import type { FilesystemChange, LayerChange } from "./layer-change.js";
import { walkChanges } from "./walk-changes.js";

/**
 * The changes that turn `lower` into `upper` as `docker diff` lists them (`A`dded,
 * `C`hanged, `D`eleted), sorted by path: what `strata diff CONTAINER` prints.
 *
 * The differ's own change stream is used when it has one (`Differ.changes`), else core's
 * naive walk of both mounted trees. A native differ may call every path it holds an `add`,
 * so each path is looked up in the lower tree: through the differ's `lowerLookup` when it
 * can read the lower layers itself, else through a temporary mount of `lower`.
 */
export async function listChanges(
  differ: Differ,
  mounts: MountManager,
  lower: Mount[],
  upper: Mount[],
): Promise<FilesystemChange[]> {
  const byPath = (a: FilesystemChange, b: FilesystemChange) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  // A differ that reads the lower layers itself saves mounting them.
  const direct = differ.changes && (await differ.lowerLookup?.(lower));
  if (direct && differ.changes) {
    const out = await differ.changes(lower, upper, (c) => classify(c, direct));
    return out.sort(byPath);
  }
  return mounts.withTempMount(lower, async (lowerDir) => {
    const consume = (changes: AsyncIterable<LayerChange>) =>
      classify(changes, mountedLookup(lowerDir));
    const out = differ.changes
      ? await differ.changes(lower, upper, consume)
      : await mounts.withTempMount(upper, (upperDir) => consume(walkChanges(lowerDir, upperDir)));
    return out.sort(byPath);
  });
}

/**
 * Turn a differ's change stream into `docker diff` lines. A native differ may call every
 * path it holds an `add`; a path that exists in the lower tree (below parents that are
 * real directories there, so no symlink is ever followed) is a change instead.
 */
async function classify(
  changes: AsyncIterable<LayerChange>,
  lowerTree: LowerLookup,
): Promise<FilesystemChange[]> {
  const out: FilesystemChange[] = [];
  // For each directory reported: whether the lower tree has a real directory there.
  const lowerHasDir = new Map<string, boolean>();
  for await (const c of changes) {
    if (c.kind === "opaque") continue;
    const p = `/${c.path}`;
    if (c.kind === "delete") {
      out.push({ kind: "D", path: p });
      continue;
    }
    const slash = c.path.lastIndexOf("/");
    const parent = slash < 0 ? "" : c.path.slice(0, slash);
    let lower: fs.Stats | undefined;
    if (parent === "" || lowerHasDir.get(parent) === true) {
      lower = lowerTree.lstat(c.path);
    }
    out.push({ kind: lower ? "C" : "A", path: p });
    const isDir = c.stat ? c.stat.isDirectory() : false;
    if (isDir) lowerHasDir.set(c.path, !!lower?.isDirectory());
  }
  return out;
}

/** Lookups through the mounted tree at `dir`. */
function mountedLookup(dir: string): LowerLookup {
  return {
    lstat: (p) => {
      try {
        return fs.lstatSync(path.join(dir, p));
      } catch {
        return undefined;
      }
    },
  };
}
