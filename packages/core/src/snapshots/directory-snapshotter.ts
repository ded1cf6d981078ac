import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError, isErrorCode } from "../errors.js";
import type { Mount } from "../mount/mount.js";
import { copyTree } from "../util/copy-tree.js";
import { processAlive } from "../util/process.js";
import { directoryUsage } from "./directory-usage.js";
import { SnapshotMetaStore, type SnapshotRecord } from "./snapshot-meta-store.js";
import type {
  CallOptions,
  SnapshotFilter,
  SnapshotInfo,
  SnapshotOptions,
  Snapshotter,
  SnapshotterCapabilities,
  Usage,
} from "./snapshotter.js";
import { verifySnapshotDirs } from "./verify-snapshot-dirs.js";

/** What {@link DirectorySnapshotter.committing} found, and what to do once committed. */
export interface CommitPlan {
  /** What the committed snapshot owns, recorded with it (what `usage` reports later). */
  usage: Usage;
  /**
   * Work to do once the record says "committed" (the tree is immutable from then on):
   * for example sharing unchanged files with the parent. Optional.
   */
  afterCommit?: () => Promise<void>;
}

/**
 * A snapshotter whose snapshots are plain directories: every active snapshot starts as a
 * full copy of its parent (`cp -a`, see {@link copyTree}), a view is a read-only bind of
 * its parent's directory. It is the vfs driver (containerd's `naive` snapshotter, docker's
 * `vfs` graph driver) and the base a copy-based third-party driver extends: override
 * {@link committing} to change what a commit does to the tree (the hardlink example shares
 * unchanged files with the parent there), {@link activeUsage} to measure differently.
 *
 * Layout of its root:
 * ```
 * metadata.db           SnapshotMetaStore: kinds, keys, parents, labels, usage
 * snapshots/<id>/       the tree of snapshot <id>
 * staging/              trees being copied (and work a subclass stages); renamed into place
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
 * ever renamed into or out of `snapshots/`. Names in `staging/` and `removing/` start
 * with the pid of their maker ({@link workAreaName}), so {@link cleanup} can tell what a dead
 * process left.
 */
export class DirectorySnapshotter implements Snapshotter {
  /** Plain directories: no privileges needed, nothing really mounted, naive diff. */
  readonly capabilities: SnapshotterCapabilities = {
    requiresRoot: false,
    realMounts: false,
    nativeDiff: false,
  };
  /** The snapshots' records. */
  protected readonly meta: SnapshotMetaStore;

  /**
   * Open (creating when needed) the snapshotter named `name` rooted at `root`.
   * @throws Error when the root or its database cannot be created.
   */
  constructor(
    readonly name: string,
    readonly root: string,
  ) {
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
    const plan = rec.kind === "active" ? await this.committing(rec, opts?.signal) : undefined;
    opts?.signal?.throwIfAborted();
    this.meta.commit(name, key, plan?.usage ?? ZERO, labelsOf(opts));
    await plan?.afterCommit?.();
  }

  /**
   * What committing the active snapshot `rec` records, measured before the record
   * changes: by default the usage of its whole tree and nothing to do afterwards.
   */
  protected async committing(rec: SnapshotRecord, signal?: AbortSignal): Promise<CommitPlan> {
    return { usage: await directoryUsage(this.dir(rec.id), signal) };
  }

  /** What an active snapshot (or an empty view) owns now: its whole tree by default. */
  protected async activeUsage(rec: SnapshotRecord, signal?: AbortSignal): Promise<Usage> {
    return directoryUsage(this.dir(rec.id), signal);
  }

  /** @inheritdoc */
  async remove(key: string, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.remove(key);
    const trash = path.join(this.root, "removing", workAreaName(rec.id));
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
   * An active snapshot is measured now ({@link activeUsage}); a committed one reports
   * what was measured at commit; a view owns nothing beyond an empty root.
   */
  async usage(key: string, opts?: CallOptions): Promise<Usage> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.get(key);
    if (rec.kind === "committed") return rec.usage ?? ZERO;
    if (rec.kind === "view" && rec.parentIds.length > 0) return ZERO;
    return this.activeUsage(rec, opts?.signal);
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
      const trash = path.join(this.root, "removing", workAreaName(Number(name)));
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
    const staging = path.join(this.root, "staging", workAreaName(id));
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

  /** The mounts of an active snapshot or a view. */
  protected mountsOf(rec: SnapshotRecord): Mount[] {
    if (rec.kind === "view") {
      const source = this.dir(rec.parentIds[0] ?? rec.id);
      return [{ type: "bind", source, options: ["rbind", "ro"] }];
    }
    return [{ type: "bind", source: this.dir(rec.id), options: ["rbind", "rw"] }];
  }

  /** The directory of snapshot `id`. */
  protected dir(id: number): string {
    return path.join(this.root, "snapshots", String(id));
  }
}

const ZERO: Usage = { inodes: 0, size: 0 };

function labelsOf(opts: SnapshotOptions | undefined): { labels?: Record<string, string> } {
  return opts?.labels ? { labels: opts.labels } : {};
}

/**
 * `<pid>-<id>-<random>`: a unique name for `staging/` or `removing/` that tells
 * {@link DirectorySnapshotter.cleanup} whether its maker still runs.
 */
function workAreaName(id: number): string {
  return `${process.pid}-${id}-${randomBytes(4).toString("hex")}`;
}
