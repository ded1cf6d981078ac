import { InvalidArgumentError, type Mount } from "@strata/core";
import type { Branch } from "./union/union-tree.js";

/** The mount type of an aufs union; its {@link AufsMountHandler} serves it. */
export const AUFS_MOUNT_TYPE = "fuse.aufs";

/** An aufs union as mount data: its branches (top first), work directory and mode. */
export interface AufsMountSpec {
  /** Branches, top first; only the first may be writable. */
  branches: Branch[];
  /** A directory on the writable branch's filesystem for copy-up; needed when writable. */
  workdir?: string;
  /** Mounted read-only (a view). */
  readOnly: boolean;
}

/**
 * The mount of an aufs union, in AUFS's own option syntax:
 * `br=<dir>=rw:<dir>=ro+wh:…` (top first; `ro+wh` because every read-only branch may hold
 * whiteouts), `workdir=<dir>` for copy-up, and `ro` for a read-only union.
 * @throws InvalidArgumentError for a branch path holding `:` or `=`, which the syntax
 *   cannot carry.
 */
export function aufsMount(spec: AufsMountSpec): Mount {
  for (const b of spec.branches) {
    if (/[:=,]/.test(b.root)) {
      throw new InvalidArgumentError(`aufs: branch path "${b.root}" holds ':', '=' or ','`);
    }
  }
  const br = spec.branches.map((b) => `${b.root}=${b.rw ? "rw" : "ro+wh"}`).join(":");
  const options = [`br=${br}`];
  if (spec.workdir) options.push(`workdir=${spec.workdir}`);
  if (spec.readOnly) options.unshift("ro");
  return { type: AUFS_MOUNT_TYPE, source: "aufs", options };
}

/**
 * Read an aufs mount back into its parts.
 * @throws InvalidArgumentError when it is not an aufs mount, has no branches, or has a
 *   writable branch below the top or without a `workdir`.
 */
export function parseAufsMount(m: Mount): AufsMountSpec {
  if (m.type !== AUFS_MOUNT_TYPE) {
    throw new InvalidArgumentError(`aufs: mount type "${m.type}" is not ${AUFS_MOUNT_TYPE}`);
  }
  const br = m.options.find((o) => o.startsWith("br=") || o.startsWith("br:"));
  if (!br) throw new InvalidArgumentError("aufs: mount has no br= option");
  const branches: Branch[] = br
    .slice(3)
    .split(":")
    .filter((s) => s !== "")
    .map((s) => {
      const eq = s.lastIndexOf("=");
      const root = eq < 0 ? s : s.slice(0, eq);
      const perm = eq < 0 ? "ro" : s.slice(eq + 1);
      if (!["rw", "ro", "ro+wh", "rr", "rr+wh"].includes(perm)) {
        throw new InvalidArgumentError(`aufs: branch "${s}" has unknown permission "${perm}"`);
      }
      return { root, rw: perm === "rw" };
    });
  const readOnly = m.options.includes("ro");
  if (branches.length === 0) throw new InvalidArgumentError("aufs: mount has no branches");
  if (branches.slice(1).some((b) => b.rw)) {
    throw new InvalidArgumentError("aufs: only the top branch may be writable");
  }
  if (readOnly) for (const b of branches) b.rw = false;
  const workdir = m.options.find((o) => o.startsWith("workdir="))?.slice("workdir=".length);
  if (branches[0]!.rw && !workdir) {
    throw new InvalidArgumentError("aufs: a writable union needs a workdir= option");
  }
  return { branches, ...(workdir ? { workdir } : {}), readOnly };
}

/** Cache timeouts (seconds) a union is mounted with. */
export interface AufsCacheOptions {
  entryTimeout: number;
  attrTimeout: number;
  negativeTimeout: number;
}

/**
 * Cache timeouts by mode: an hour for everything. A read-only union never changes. A
 * writable one changes only through its own mount, which the kernel sees, with one
 * exception the helper covers: the high-level libfuse API gives each name of a hardlinked
 * file its own kernel inode, so after a change through one name the native helper drops
 * the others' cached attributes (FUSE_NOTIFY_INVAL_INODE).
 */
export const DEFAULT_CACHE: Record<"ro" | "rw", AufsCacheOptions> = {
  ro: { entryTimeout: 3600, attrTimeout: 3600, negativeTimeout: 3600 },
  rw: { entryTimeout: 3600, attrTimeout: 3600, negativeTimeout: 3600 },
};

/**
 * The libfuse options the helper mounts with: other users (the container's processes)
 * may use the mount and the kernel checks their access from the attributes
 * (`allow_other,default_permissions`); the backing inode numbers are shown (`use_ino`:
 * hardlinks share one); 128 KiB writes (`big_writes`); file bytes spliced from the backing
 * file into /dev/fuse (`splice_write,splice_move`, with the native helper's `read_buf`); setuid binaries and
 * device nodes work as on any root filesystem (`suid,dev`). A read-only union keeps file
 * pages across opens (`kernel_cache`), a writable one while a file is unchanged
 * (`auto_cache`).
 */
export function fuseMountOptions(spec: AufsMountSpec, cache?: Partial<AufsCacheOptions>): string[] {
  const mode = spec.readOnly ? "ro" : "rw";
  const c = { ...DEFAULT_CACHE[mode], ...cache };
  return [
    ...(spec.readOnly ? ["ro"] : []),
    "allow_other",
    "default_permissions",
    "use_ino",
    "big_writes",
    "splice_write",
    "splice_move",
    "suid",
    "dev",
    "subtype=aufs",
    "fsname=aufs",
    spec.readOnly ? "kernel_cache" : "auto_cache",
    `entry_timeout=${c.entryTimeout}`,
    `attr_timeout=${c.attrTimeout}`,
    `negative_timeout=${c.negativeTimeout}`,
  ];
}
