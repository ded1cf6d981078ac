import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import {
  type CallOptions,
  directoryUsage,
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
import { applyLinks, planLinks } from "./link-plan.js";

/**
 * The hardlink snapshotter: an active snapshot is a full, private copy of its parent (as
 * vfs), and a committed snapshot shares every file it did not change with its parent by
 * hardlinks, so a chain of layers costs about what its changes cost (as overlay).
 *
 * Why it is correct: a hardlink is one file with two names, so a write through either name
 * changes both. Sharing is therefore done only between trees nobody writes: at commit,
 * after the record says "committed", each file identical to the parent's (mode, owner,
 * size, mtime, xattrs and bytes) is replaced by a hardlink to the parent's file. Active
 * snapshots are copied with `cp -a`, which turns a name shared with another tree into a
 * file of its own. A container therefore never writes to an inode any other snapshot uses.
 *
 * Layout of its root:
 * ```
 * metadata.db           SnapshotMetaStore: kinds, keys, parents, labels, usage
 * snapshots/<id>/       the tree of snapshot <id>
 * staging/              trees being copied, and links being made; renamed into place
 * removing/             trees being deleted; renamed out of snapshots/ first
 * ```
 * Mounts are data: an active snapshot is `{type: "bind", source: snapshots/<id>,
 * options: ["rbind", "rw"]}`, which core uses as a plain directory without mounting. A
 * view is a read-only bind of its parent's directory; an empty view gets its own empty
 * directory.
 */
export class HardlinkSnapshotter implements Snapshotter {
  /** Driver name. */
  readonly name = "hardlink";
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
    const parentId = rec.parentIds[0];
    // Usage is measured (and the links planned) before the record changes; the store
    // re-checks everything else. The links are made only once the tree is committed.
    const plan =
      rec.kind !== "active"
        ? undefined
        : parentId === undefined
          ? { files: [], usage: await directoryUsage(this.dir(rec.id)) }
          : await planLinks(this.dir(rec.id), this.dir(parentId), opts?.signal);
    opts?.signal?.throwIfAborted();
    this.meta.commit(name, key, plan?.usage ?? ZERO, labelsOf(opts));
    if (plan && parentId !== undefined && plan.files.length > 0) {
      await applyLinks(
        this.dir(rec.id),
        this.dir(parentId),
        plan.files,
        path.join(this.root, "staging"),
      );
    }
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
   * reports what it owned at commit (not the files it shares with its parent); a view
   * owns nothing beyond an empty root.
   */
  async usage(key: string, opts?: CallOptions): Promise<Usage> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.get(key);
    if (rec.kind === "committed") return rec.usage ?? ZERO;
    if (rec.kind === "view" && rec.parentIds.length > 0) return ZERO;
    return directoryUsage(this.dir(rec.id));
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
