import * as fs from "node:fs/promises";
import * as path from "node:path";
import {
  type CallOptions,
  directoryUsage,
  InvalidArgumentError,
  type Mount,
  type SnapshotFilter,
  type SnapshotInfo,
  SnapshotMetaStore,
  type SnapshotOptions,
  type SnapshotRecord,
  type Snapshotter,
  type SnapshotterCapabilities,
  type Usage,
  verifySnapshotDirs,
} from "@strata/core";
import type { OverlayProbeResult } from "./overlay-probe.js";

/**
 * Mount options every overlay mount carries: no inode index, no redirects, no metacopy, so
 * that an upper directory always holds whole copies of what changed (which the native
 * differ relies on: a renamed lower directory is copied up, not recorded as a redirect).
 */
export const OVERLAY_FIXED_OPTIONS = ["index=off", "redirect_dir=off", "metacopy=off"] as const;

/**
 * Kernel overlayfs snapshots (docker's overlay2 layout).
 *
 * Each snapshot is `<root>/snapshots/<id>/` holding `fs/` (the layer's own files in overlay
 * format: whiteouts as 0/0 character devices, opaque directories marked with the
 * `trusted.overlay.opaque=y` xattr) and, while active, `work/`. `<root>/l/<short>` is a short
 * symlink to each `fs/`, so that a 128-layer `lowerdir=` list stays within a page of mount
 * options (core's mount manager mounts from `<root>/l/`'s parent with relative names when the
 * list is long).
 *
 * A snapshot with no parent is handed out as a bind mount of its `fs/`; a view of one parent
 * as a read-only bind of that parent's `fs/`; anything else as an overlay mount.
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly name = "overlay";
  readonly capabilities: SnapshotterCapabilities = {
    requiresRoot: true,
    realMounts: true,
    nativeDiff: true,
  };
  private readonly meta: SnapshotMetaStore;
  private closed = false;

  /**
   * @param root the driver's own directory (`<store>/overlay`).
   * @param probe what the driver's probe found, for `status`.
   */
  constructor(
    readonly root: string,
    private readonly probe?: OverlayProbeResult,
  ) {
    this.meta = new SnapshotMetaStore(root);
  }

  /** Status lines for `info`: backing filesystem and whether native diff is in use. */
  async status(): Promise<[string, string][]> {
    if (!this.probe) return [];
    const lines: [string, string][] = [["Native Overlay Diff", String(this.probe.nativeDiff)]];
    if (this.probe.nativeDiffReason)
      lines.push(["Native Diff Off Because", this.probe.nativeDiffReason]);
    return lines;
  }

  /** The layer directory of snapshot `id`. */
  upperDir(id: number): string {
    return path.join(this.root, "snapshots", String(id), "fs");
  }

  private workDir(id: number): string {
    return path.join(this.root, "snapshots", String(id), "work");
  }

  /** The short link to snapshot `id`'s layer directory. */
  linkPath(id: number): string {
    return path.join(this.root, "l", id.toString(36));
  }

  async stat(key: string, _opts?: CallOptions): Promise<SnapshotInfo> {
    return this.meta.info(key);
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create("active", key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create("view", key, parent, opts);
  }

  private async create(
    kind: "active" | "view",
    key: string,
    parent: string | undefined,
    opts?: SnapshotOptions,
  ): Promise<Mount[]> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.create(kind, key, parent, opts?.labels ? { labels: opts.labels } : {});
    try {
      const upper = this.upperDir(rec.id);
      await fs.mkdir(upper, { recursive: true });
      await fs.chmod(upper, 0o755);
      if (kind === "active") await fs.mkdir(this.workDir(rec.id), { recursive: true });
      await fs.mkdir(path.join(this.root, "l"), { recursive: true });
      await fs.rm(this.linkPath(rec.id), { force: true });
      await fs.symlink(path.join("..", "snapshots", String(rec.id), "fs"), this.linkPath(rec.id));
    } catch (err) {
      this.meta.remove(key);
      await this.removeDirs(rec.id);
      throw err;
    }
    return this.mountsOf(rec);
  }

  private mountsOf(rec: SnapshotRecord): Mount[] {
    const lowers = rec.parentIds.map((id) => this.linkPath(id));
    if (rec.kind === "view") {
      const only = rec.parentIds[0];
      if (rec.parentIds.length === 0)
        return [{ type: "bind", source: this.upperDir(rec.id), options: ["ro", "rbind"] }];
      if (rec.parentIds.length === 1 && only !== undefined) {
        return [{ type: "bind", source: this.upperDir(only), options: ["ro", "rbind"] }];
      }
      return [
        {
          type: "overlay",
          source: "overlay",
          options: ["ro", ...OVERLAY_FIXED_OPTIONS, `lowerdir=${lowers.join(":")}`],
        },
      ];
    }
    if (lowers.length === 0)
      return [{ type: "bind", source: this.upperDir(rec.id), options: ["rw", "rbind"] }];
    return [
      {
        type: "overlay",
        source: "overlay",
        options: [
          ...OVERLAY_FIXED_OPTIONS,
          `lowerdir=${lowers.join(":")}`,
          `upperdir=${this.upperDir(rec.id)}`,
          `workdir=${this.workDir(rec.id)}`,
        ],
      },
    ];
  }

  async mounts(key: string, _opts?: CallOptions): Promise<Mount[]> {
    const rec = this.meta.get(key);
    if (rec.kind === "committed")
      throw new InvalidArgumentError(`snapshot "${key}": is committed and has no mounts`);
    return this.mountsOf(rec);
  }

  async commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.get(key);
    const usage =
      rec.kind === "active" ? await directoryUsage(this.upperDir(rec.id)) : { size: 0, inodes: 0 };
    this.meta.commit(name, key, usage, opts?.labels ? { labels: opts.labels } : {});
    await fs.rm(this.workDir(rec.id), { recursive: true, force: true });
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.remove(key);
    await this.removeDirs(rec.id);
  }

  private async removeDirs(id: number): Promise<void> {
    await fs.rm(this.linkPath(id), { force: true });
    await fs.rm(path.join(this.root, "snapshots", String(id)), { recursive: true, force: true });
  }

  async walk(
    fn: (info: SnapshotInfo) => void | Promise<void>,
    filter?: SnapshotFilter,
  ): Promise<void> {
    await this.meta.walk(fn, filter);
  }

  async usage(key: string, _opts?: CallOptions): Promise<Usage> {
    const rec = this.meta.get(key);
    if (rec.kind === "committed" && rec.usage) return rec.usage;
    return directoryUsage(this.upperDir(rec.id));
  }

  /**
   * Delete directories and links no snapshot record owns (left by a process killed between
   * removing a record and its directory).
   * @returns how many were removed.
   */
  async cleanup(): Promise<number> {
    const ids = this.meta.ids();
    let n = 0;
    const dirs = await fs.readdir(path.join(this.root, "snapshots")).catch(() => [] as string[]);
    for (const d of dirs) {
      if (!ids.has(Number(d))) {
        await this.removeDirs(Number(d));
        n++;
      }
    }
    return n;
  }

  /** @inheritdoc */
  async verify(): Promise<string[]> {
    return verifySnapshotDirs(this.meta, path.join(this.root, "snapshots"));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.meta.close();
  }
}
