import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { AufsMountHandler, aufsMount } from "@strata/driver-aufs";

/** The union filesystems compared on the same layers: kernel, strata's FUSE one, FUSE peer. */
export const UNION_FILESYSTEMS = ["overlay", "aufs", "fuse-overlayfs"] as const;
/** One of {@link UNION_FILESYSTEMS}. */
export type UnionFs = (typeof UNION_FILESYSTEMS)[number];

/** Where a union's layers live: read-only ones top first, one writable upper and its work dir. */
export interface UnionLayers {
  lowers: readonly string[];
  upper: string;
  work: string;
}

function exec(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, encoding: "utf8" }, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * Mounts unions of plain layer directories (no whiteouts in them, so one directory serves
 * all three filesystems) with each filesystem's own tool:
 *
 * - `overlay`: `mount -t overlay` with the lower directories relative to their common
 *   parent (the mount runs there), so a chain of 100 layers fits a page of options;
 * - `aufs`: strata's {@link AufsMountHandler}, which starts a helper process that serves
 *   the union (this process never serves a FUSE mount it touches);
 * - `fuse-overlayfs`: the Debian binary with its defaults, which daemonizes once mounted.
 *
 * Every mount is remembered until unmounted, so {@link unmountAll} leaves nothing behind.
 */
export class UnionMounter {
  private readonly aufs: AufsMountHandler;
  private readonly mounted = new Map<string, UnionFs>();

  constructor(runDir: string) {
    this.aufs = new AufsMountHandler({ runDir });
  }

  /** Mount `layers` as filesystem `kind` on the empty directory `target`. */
  async mount(kind: UnionFs, layers: UnionLayers, target: string): Promise<void> {
    switch (kind) {
      case "overlay": {
        const cwd = commonParent(layers.lowers);
        const lower = layers.lowers.map((l) => path.relative(cwd, l) || ".").join(":");
        const opts = `lowerdir=${lower},upperdir=${layers.upper},workdir=${layers.work}`;
        await exec("mount", ["-t", "overlay", "overlay", "-o", opts, target], cwd);
        break;
      }
      case "aufs":
        await this.aufs.mount(
          aufsMount({
            branches: [
              { root: layers.upper, rw: true },
              ...layers.lowers.map((root) => ({ root, rw: false })),
            ],
            workdir: layers.work,
            readOnly: false,
          }),
          target,
        );
        break;
      case "fuse-overlayfs": {
        const opts = `lowerdir=${layers.lowers.join(":")},upperdir=${layers.upper},workdir=${layers.work}`;
        await exec("fuse-overlayfs", ["-o", opts, target]);
        break;
      }
    }
    this.mounted.set(target, kind);
  }

  /** Unmount what {@link mount} mounted on `target` (and, for FUSE, its server exits). */
  async unmount(target: string): Promise<void> {
    const kind = this.mounted.get(target);
    if (!kind) return;
    this.mounted.delete(target);
    if (kind === "aufs") await this.aufs.unmount(target);
    else await exec("umount", [target]).catch(() => exec("umount", ["-l", target]));
  }

  /** Unmount everything still mounted (after a failure midway, too). */
  async unmountAll(): Promise<void> {
    for (const target of [...this.mounted.keys()].reverse()) {
      await this.unmount(target).catch(() => {});
    }
  }
}

/** The deepest directory holding every path of `dirs`. */
function commonParent(dirs: readonly string[]): string {
  let parent = path.dirname(dirs[0]!);
  while (!dirs.every((d) => d.startsWith(`${parent}/`))) parent = path.dirname(parent);
  return parent;
}

/**
 * Why union filesystem `kind` cannot be measured here, or undefined when it can: all need
 * root (mounting, and serving every file's owner), fuse-overlayfs its binary.
 */
export function unionUnavailable(
  kind: UnionFs,
  aufsReason: string | undefined,
): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (mounts)";
  if (kind === "aufs") return aufsReason;
  if (kind === "fuse-overlayfs") {
    const found = (process.env.PATH ?? "/usr/bin:/bin")
      .split(":")
      .some((d) => fs.existsSync(path.join(d, "fuse-overlayfs")));
    if (!found) return "fuse-overlayfs is not installed (Debian package fuse-overlayfs)";
  }
  return undefined;
}
