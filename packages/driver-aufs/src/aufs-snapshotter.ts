import * as fs from "node:fs/promises";
import * as path from "node:path";
import {
  type CallOptions,
  directoryUsage,
  InvalidArgumentError,
  type Mount,
  readXattrs,
  type SnapshotFilter,
  type SnapshotInfo,
  SnapshotMetaStore,
  type SnapshotOptions,
  type SnapshotRecord,
  type Snapshotter,
  type SnapshotterCapabilities,
  type Usage,
  verifySnapshotDirs,
  writeXattr,
} from "@strata/core";
import { AufsMountHandler, type AufsMountHandlerOptions } from "./aufs-mount-handler.js";
import { aufsMount } from "./aufs-mount-spec.js";

/** Options of {@link AufsSnapshotter}. */
export interface AufsSnapshotterOptions {
  /** Options of the mount handler it creates (default run directory: `<root>/run`). */
  handler?: Partial<AufsMountHandlerOptions>;
}

/**
 * AUFS snapshots: every snapshot is one AUFS branch.
 *
 * `<root>/snapshots/<id>/fs/` is the branch and holds exactly what the snapshot's layer
 * holds, in AUFS's format: a deleted path is a `.wh.<name>` file next to where it was, a
 * directory that hides everything below it holds `.wh..wh..opq`. Applying a layer tar is
 * plain extraction and the native diff of an active snapshot is its branch as it stands.
 * An active snapshot also has `<root>/snapshots/<id>/work/`, where copy-up writes before
 * renaming into the branch.
 *
 * Mounts: a snapshot with no parent is its branch, bind-mounted (read-only for a view); a
 * snapshot with parents is a `fuse.aufs` mount of its branch (writable) over its parents'
 * branches, top first (a view: the parents' branches, read-only), served by the FUSE
 * helper that {@link mountHandler} starts.
 */
export class AufsSnapshotter implements Snapshotter {
  readonly name = "aufs";
  readonly capabilities: SnapshotterCapabilities = {
    requiresRoot: true,
    realMounts: true,
    nativeDiff: true,
  };
  /** The handler of this driver's `fuse.aufs` mounts; register it with the mount manager. */
  readonly mountHandler: AufsMountHandler;
  private readonly meta: SnapshotMetaStore;
  private closed = false;

  /**
   * @param root the driver's own directory (`<store>/aufs`).
   * @throws InvalidArgumentError when `root` holds `:`, `=` or `,` (AUFS's branch syntax).
   */
  constructor(
    readonly root: string,
    opts: AufsSnapshotterOptions = {},
  ) {
    if (/[:=,]/.test(root)) {
      throw new InvalidArgumentError(`aufs: root "${root}" holds ':', '=' or ','`);
    }
    this.meta = new SnapshotMetaStore(root);
    this.mountHandler = new AufsMountHandler({
      runDir: path.join(root, "run"),
      ...opts.handler,
    });
  }

  /** Status lines for `info`. */
  async status(): Promise<[string, string][]> {
    const helpers = await this.mountHandler.helpers();
    const dead = helpers.filter((h) => !h.alive).length;
    return [
      ["Mounted Unions", String(helpers.filter((h) => h.alive && h.mounted).length)],
      ...(dead > 0 ? [["Dead FUSE Helpers", String(dead)] as [string, string]] : []),
    ];
  }

  /** The branch (layer directory) of snapshot `id`. */
  branchDir(id: number): string {
    return path.join(this.root, "snapshots", String(id), "fs");
  }

  private workDir(id: number): string {
    return path.join(this.root, "snapshots", String(id), "work");
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
      const branch = this.branchDir(rec.id);
      await fs.mkdir(branch, { recursive: true });
      await fs.chmod(branch, 0o755);
      const top = rec.parentIds[0];
      // The union's root shows the top branch's root: start as the parent's looked.
      if (kind === "active" && top !== undefined) await copyRootMeta(this.branchDir(top), branch);
      if (kind === "active") await fs.mkdir(this.workDir(rec.id), { recursive: true });
    } catch (err) {
      this.meta.remove(key);
      await this.removeDirs(rec.id);
      throw err;
    }
    return this.mountsOf(rec);
  }

  private mountsOf(rec: SnapshotRecord): Mount[] {
    const lowers = rec.parentIds.map((id) => ({ root: this.branchDir(id), rw: false }));
    if (rec.kind === "view") {
      if (lowers.length === 0)
        return [{ type: "bind", source: this.branchDir(rec.id), options: ["ro", "rbind"] }];
      return [aufsMount({ branches: lowers, readOnly: true })];
    }
    if (lowers.length === 0)
      return [{ type: "bind", source: this.branchDir(rec.id), options: ["rw", "rbind"] }];
    return [
      aufsMount({
        branches: [{ root: this.branchDir(rec.id), rw: true }, ...lowers],
        workdir: this.workDir(rec.id),
        readOnly: false,
      }),
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
      rec.kind === "active" ? await directoryUsage(this.branchDir(rec.id)) : { size: 0, inodes: 0 };
    this.meta.commit(name, key, usage, opts?.labels ? { labels: opts.labels } : {});
    await fs.rm(this.workDir(rec.id), { recursive: true, force: true });
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted();
    const rec = this.meta.remove(key);
    await this.removeDirs(rec.id);
  }

  private async removeDirs(id: number): Promise<void> {
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
    return directoryUsage(this.branchDir(rec.id));
  }

  /**
   * Clear what crashed processes left: mounts whose FUSE helper died (aborted and
   * unmounted, records dropped), and snapshot directories no record owns.
   * @returns how many leftovers were removed.
   */
  async cleanup(): Promise<number> {
    let n = (await this.mountHandler.cleanStale()).length;
    const ids = this.meta.ids();
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

/** Give `dst` (a new branch root) the owner, mode, xattrs and times of `src`'s root. */
async function copyRootMeta(src: string, dst: string): Promise<void> {
  const st = await fs.lstat(src);
  await fs.chown(dst, st.uid, st.gid);
  await fs.chmod(dst, st.mode & 0o7777);
  for (const [name, value] of readXattrs(src) ?? []) writeXattr(dst, name, value);
  await fs.utimes(dst, st.atime, st.mtime);
}
