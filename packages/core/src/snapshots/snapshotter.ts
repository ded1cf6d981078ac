import type { Mount } from "../mount/mount.js";

/**
 * The kind of a snapshot: `active` snapshots are writable and may be committed, `view`
 * snapshots are read-only, `committed` snapshots are immutable parents for others.
 */
export type SnapshotKind = "active" | "view" | "committed";

/** What a snapshotter knows about one snapshot (containerd's `snapshots.Info`). */
export interface SnapshotInfo {
  /** Kind of the snapshot. */
  kind: SnapshotKind;
  /** Key (active, view) or name (committed) of the snapshot; one keyspace for all three. */
  name: string;
  /** Name of the committed parent, or `undefined` for a base snapshot. */
  parent?: string;
  /** Free-form labels, copied on commit. */
  labels: Record<string, string>;
  /** Creation time. */
  created: Date;
  /** Last change (commit or label update). */
  updated: Date;
}

/** Disk use of a snapshot's own layer (not its parents'). */
export interface Usage {
  /** Number of inodes the snapshot's own layer holds. */
  inodes: number;
  /** Bytes the snapshot's own layer holds (apparent sizes of its files). */
  size: number;
}

/** Options that apply to every call: cancellation. */
export interface CallOptions {
  /** Abort the operation; it rejects with the signal's reason and leaves nothing half-made. */
  signal?: AbortSignal;
}

/** Options of `prepare`, `view` and `commit`. */
export interface SnapshotOptions extends CallOptions {
  /** Labels to store with the snapshot. */
  labels?: Record<string, string>;
}

/** Filter of `walk`: return only snapshots of these kinds or this parent. */
export interface SnapshotFilter {
  kinds?: SnapshotKind[];
  parent?: string;
}

/** What a driver can and cannot do, so core and the kit can adapt. */
export interface SnapshotterCapabilities {
  /** The driver's mounts need privileges (root) to be mounted. */
  requiresRoot: boolean;
  /** Mounts are real kernel or FUSE mounts (false: a plain directory handed out as a bind). */
  realMounts: boolean;
  /** The driver ships a native differ (reads its upper layer directly). */
  nativeDiff: boolean;
}

/**
 * A Snapshotter manages the filesystem snapshots that containers and image layers live in.
 * It is strata's storage-driver contract, modelled on containerd's `snapshots.Snapshotter`.
 *
 * ## Keys, names and parents
 * All snapshots share one keyspace. `key` names an active or view snapshot while it is
 * being used; `name` names a committed one; `parent` always refers to a committed name.
 * A key is used once: preparing or viewing a key that exists (in any kind) fails with
 * `AlreadyExistsError`.
 *
 * ## Lifecycle
 * ```
 *              prepare(key, parent)           commit(name, key)
 *   (nothing) ───────────────────► active ───────────────────────► committed
 *              view(key, parent)
 *   (nothing) ───────────────────► view   (read-only, cannot be committed)
 *                                                   remove(key|name) ──► (nothing)
 * ```
 * - `prepare` creates an active snapshot whose contents start as the parent's and returns
 *   the mounts that, once mounted, show it. Writes go into the active snapshot only.
 * - `view` creates a read-only snapshot of the parent. Writing through its mounts fails.
 * - `commit` turns an active snapshot into an immutable committed one under `name`; the
 *   active key is consumed and no longer exists afterwards. Committing a view, a committed
 *   snapshot or a missing key fails.
 * - `remove` deletes a snapshot of any kind. It fails with `FailedPreconditionError` while
 *   other snapshots have it as their parent.
 *
 * Drivers never mount anything themselves: they return {@link Mount}s as data and core's
 * mount manager performs them (a driver with a custom mount type also exports a
 * `MountHandler`).
 *
 * ## Example: unpack a layer, then run on it
 * ```ts
 * const mounts = await sn.prepare("extract-1", undefined);
 * await differ.apply(layerDesc, mounts);
 * await sn.commit(chainId, "extract-1");        // "extract-1" is gone now
 * const rootfs = await sn.prepare("container-c1", chainId);
 * // mount rootfs, run, diff against the parent, then:
 * await sn.remove("container-c1");
 * ```
 *
 * All methods are safe to call from several processes sharing one root at once; a method
 * that fails leaves the store as it was.
 */
export interface Snapshotter {
  /** Driver name, as given to `--storage-driver`. */
  readonly name: string;
  /** What the driver can do. */
  readonly capabilities: SnapshotterCapabilities;

  /**
   * Information about the snapshot `key` (any kind).
   * @throws NotFoundError when no snapshot has that key or name.
   */
  stat(key: string, opts?: CallOptions): Promise<SnapshotInfo>;

  /**
   * Create an active (writable) snapshot `key` on top of committed `parent` (or empty).
   * An empty snapshot's root is an empty directory with mode 0755.
   * @returns the mounts that show the snapshot's contents.
   * @throws AlreadyExistsError when `key` is taken by any snapshot.
   * @throws NotFoundError when `parent` does not exist.
   * @throws InvalidArgumentError when `parent` is not a committed snapshot.
   */
  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;

  /**
   * Create a read-only view `key` of committed `parent` (or an empty view).
   * @returns mounts carrying the `ro` option; writes through them fail.
   * @throws AlreadyExistsError when `key` is taken.
   * @throws NotFoundError when `parent` does not exist.
   * @throws InvalidArgumentError when `parent` is not a committed snapshot.
   */
  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;

  /**
   * The mounts of an existing active or view snapshot (the same ones prepare/view returned).
   * @throws NotFoundError when `key` does not exist.
   * @throws InvalidArgumentError when `key` is a committed snapshot.
   */
  mounts(key: string, opts?: CallOptions): Promise<Mount[]>;

  /**
   * Commit active snapshot `key` as `name`. `key` is consumed.
   * @throws NotFoundError when `key` does not exist.
   * @throws FailedPreconditionError when `key` is not active (a view or committed snapshot).
   * @throws AlreadyExistsError when `name` is taken.
   */
  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void>;

  /**
   * Remove the snapshot `key` (any kind) and its data.
   * @throws NotFoundError when `key` does not exist.
   * @throws FailedPreconditionError while other snapshots have it as parent.
   */
  remove(key: string, opts?: CallOptions): Promise<void>;

  /** Call `fn` for every snapshot (matching `filter`), in no promised order. */
  walk(fn: (info: SnapshotInfo) => void | Promise<void>, filter?: SnapshotFilter): Promise<void>;

  /**
   * Bytes and inodes of the snapshot's own layer (for committed snapshots, as of commit).
   * @throws NotFoundError when `key` does not exist.
   */
  usage(key: string, opts?: CallOptions): Promise<Usage>;

  /**
   * Driver status lines for `info` (docker's `DriverStatus`), e.g.
   * `[["Native Overlay Diff", "true"]]`. Optional.
   */
  status?(): Promise<[string, string][]>;

  /**
   * Delete what crashed processes left behind (directories without a record, half-made
   * copies). Safe while other processes use the root. Optional; core calls it at start.
   * @returns how many leftovers were removed.
   */
  cleanup?(): Promise<number>;

  /**
   * Check the driver's own bookkeeping against its directories (`system check`): records
   * whose data are missing, data no record owns, leftovers of processes that died. Must not
   * change anything. Optional.
   * @returns one sentence per problem found; empty when all is well.
   */
  verify?(): Promise<string[]>;

  /** Release resources. Idempotent; later calls on this instance may fail. */
  close(): Promise<void>;
}
