import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import {
  type CallOptions,
  InvalidArgumentError,
  isErrorCode,
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
import { copyTree } from "./copy-tree.js";
import { diskUsage } from "./disk-usage.js";

/**
 * The vfs snapshotter: every active snapshot is a full copy of its parent in a plain
 * directory (containerd's `naive` snapshotter, docker's `vfs` graph driver). It works on
 * any filesystem and needs no kernel support, at the price of disk space and copy time.
 *
 * Layout of its root:
 * ```
 * metadata.db           SnapshotMetaStore: kinds, keys, parents, labels, usage
 * snapshots/<id>/       the tree of snapshot <id>
 * staging/              trees being copied; renamed into snapshots/ when complete
 * removing/             trees being deleted; renamed out of snapshots/ first
 * ```
 * Mounts are data: an active snapshot is `{type: "bind", source: snapshots/<id>,
 * options: ["rbind", "rw"]}`, which core uses as a plain directory without mounting. A
 * view is a read-only bind of its parent's directory (a committed snapshot never changes,
 * so a view needs no copy); an empty view gets its own empty directory.
 *
 * The metadata record is made before the directory and removed if the copy fails, so a
 * parent cannot be removed while a child's copy is in progress. Several processes may
 * share one root: the metadata store serializes their changes, and directories are only
 * ever renamed into or out of `snapshots/`.
 */
export class VfsSnapshotter implements Snapshotter {
  /** Driver name. */
  readonly name = "vfs";
  /** Plain directories: no privileges needed, nothing really mounted, naive diff. */
  readonly capabilities: SnapshotterCapabilities = {
    requiresRoot: false,
    realMounts: false,
    nativeDiff: false,
  };
  private readonly meta: SnapshotMetaStore;

  /**
   * Open (creating when needed) the snapshotter rooted at `root`.
   * @throws Error when the root or its database cannot be created.
   */
  constructor(readonly root: string) {
    for (const d of ["snapshots", "staging", "removing"]) {
      fs.mkdirSync(path.join(root, d), { recursive: true, mode: 0o700 });
    }
    this.meta = new SnapshotMetaStore(root);
  }

  /** @inheritdoc */
  async stat(key: string, opts?: CallOptions): Promise<SnapshotInfo> {
    opts?.signal?.throwIfAborted();
    return this.meta.info(key);
  }

  /** @inheritdoc */
  async prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create("active", key, parent, opts);
  }

  /** @inheritdoc */
  async view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> {
    return this.create("view", key, parent, opts);
  }

  /** @inheritdoc */
  async mounts(key: string, opts?: CallOptions): Promise<Mount[]> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.get(key);
    if (rec.kind === "committed") {
      throw new InvalidArgumentError(`snapshot "${key}": committed snapshots have no mounts`);
    }
    return this.mountsOf(rec);
  }

  /** @inheritdoc */
  async commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.get(key);
    // Usage is measured before the record changes; the store re-checks everything else.
    const usage = rec.kind === "active" ? await diskUsage(this.dir(rec.id), opts?.signal) : ZERO;
    opts?.signal?.throwIfAborted();
    this.meta.commit(name, key, usage, labelsOf(opts));
  }

  /** @inheritdoc */
  async remove(key: string, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.remove(key);
    const trash = path.join(this.root, "removing", tempName(rec.id));
    try {
      await fsp.rename(this.dir(rec.id), trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // a view of a parent
      throw err;
    }
    await fsp.rm(trash, { recursive: true, force: true });
  }

  /** @inheritdoc */
  async walk(
    fn: (info: SnapshotInfo) => void | Promise<void>,
    filter?: SnapshotFilter,
  ): Promise<void> {
    await this.meta.walk(fn, filter);
  }

  /**
   * @inheritdoc
   * An active snapshot is measured now (its whole copy is its own); a committed one
   * reports what was measured at commit; a view owns nothing beyond an empty root.
   */
  async usage(key: string, opts?: CallOptions): Promise<Usage> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.get(key);
    if (rec.kind === "committed") return rec.usage ?? ZERO;
    if (rec.kind === "view" && rec.parentIds.length > 0) return ZERO;
    return diskUsage(this.dir(rec.id), opts?.signal);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    this.meta.close();
  }

  /**
   * @inheritdoc
   * A view of a parent owns no directory (it shows the parent's).
   */
  async verify(): Promise<string[]> {
    return verifySnapshotDirs(this.meta, path.join(this.root, "snapshots"), {
      hasDir: (rec) => !(rec.kind === "view" && rec.parentIds.length > 0),
      workAreas: [path.join(this.root, "staging"), path.join(this.root, "removing")],
    });
  }

  /**
   * Delete what crashed processes left behind: staging and removal directories of
   * processes that no longer run, and snapshot directories without a metadata record.
   * Safe to run while other processes use the root.
   * @returns how many directories were deleted.
   */
  async cleanup(): Promise<number> {
    let n = 0;
    for (const area of ["staging", "removing"]) {
      for (const name of await fsp.readdir(path.join(this.root, area))) {
        const pid = Number(name.split("-")[0]);
        if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
        await fsp.rm(path.join(this.root, area, name), { recursive: true, force: true });
        n++;
      }
    }
    const ids = this.meta.ids();
    for (const name of await fsp.readdir(path.join(this.root, "snapshots"))) {
      if (ids.has(Number(name))) continue;
      const trash = path.join(this.root, "removing", tempName(Number(name)));
      if (
        await fsp.rename(path.join(this.root, "snapshots", name), trash).then(
          () => true,
          () => false,
        )
      ) {
        await fsp.rm(trash, { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }

  private async create(
    kind: "active" | "view",
    key: string,
    parent: string | undefined,
    opts: SnapshotOptions | undefined,
  ): Promise<Mount[]> {
    const signal = opts?.signal;
    signal?.throwIfAborted();
    const rec = this.meta.create(kind, key, parent, labelsOf(opts));
    try {
      const parentId = rec.parentIds[0];
      if (kind === "active" || parentId === undefined) await this.build(rec.id, parentId, signal);
      signal?.throwIfAborted();
      return this.mountsOf(rec);
    } catch (err) {
      await this.remove(key).catch((e) => {
        if (!isErrorCode(e, "NOT_FOUND")) throw e;
      });
      throw err;
    }
  }

  /** Make `snapshots/<id>`: a copy of the parent's tree, or an empty 0755 directory. */
  private async build(
    id: number,
    parentId: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const staging = path.join(this.root, "staging", tempName(id));
    try {
      if (parentId === undefined) {
        await fsp.mkdir(staging);
        await fsp.chmod(staging, 0o755);
      } else {
        await copyTree(this.dir(parentId), staging, signal);
      }
      await fsp.rename(staging, this.dir(id));
    } catch (err) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  private mountsOf(rec: SnapshotRecord): Mount[] {
    if (rec.kind === "view") {
      const source = this.dir(rec.parentIds[0] ?? rec.id);
      return [{ type: "bind", source, options: ["rbind", "ro"] }];
    }
    return [{ type: "bind", source: this.dir(rec.id), options: ["rbind", "rw"] }];
  }

  private dir(id: number): string {
    return path.join(this.root, "snapshots", String(id));
  }
}

const ZERO: Usage = { inodes: 0, size: 0 };

function labelsOf(opts: SnapshotOptions | undefined): { labels?: Record<string, string> } {
  return opts?.labels ? { labels: opts.labels } : {};
}

/** `<pid>-<id>-<random>`: unique, and tells `cleanup` whether its maker still runs. */
function tempName(id: number): string {
  return `${process.pid}-${id}-${randomBytes(4).toString("hex")}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
