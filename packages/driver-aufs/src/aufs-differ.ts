import * as fs from "node:fs/promises";
import * as path from "node:path";
import {
  type ApplyOptions,
  applyLayerBlob,
  type ContentStore,
  type Descriptor,
  type Differ,
  type DiffOptions,
  type LayerChange,
  type LowerLookup,
  type Mount,
  NotSupportedError,
  storeLayerBlob,
  type Whiteout,
} from "@strata/core";
import { aufsBranchChanges, rootIsOpaque } from "./aufs-changes.js";
import { AUFS_MOUNT_TYPE, parseAufsMount } from "./aufs-mount-spec.js";
import { OPAQUE_MARKER, UnionTree, WHITEOUT_PREFIX } from "./union/union-tree.js";

/** The writable branch of mounts and the read-only branches under it (real paths). */
interface BranchView {
  rw: string;
  lowers: string[];
}

/** The branch view of writable mounts, or undefined when they are not aufs's. */
async function writableView(mounts: readonly Mount[]): Promise<BranchView | undefined> {
  const m = mounts[0];
  if (mounts.length !== 1 || !m || m.target) return undefined;
  if (m.type === "bind" && !m.options.includes("ro")) return { rw: m.source, lowers: [] };
  if (m.type !== AUFS_MOUNT_TYPE) return undefined;
  const spec = parseAufsMount(m);
  const [top, ...rest] = spec.branches;
  if (!top?.rw) return undefined;
  return { rw: top.root, lowers: await Promise.all(rest.map((b) => fs.realpath(b.root))) };
}

/** The branches read-only mounts show, top first; undefined when they are not aufs's. */
async function readOnlyStack(mounts: readonly Mount[]): Promise<string[] | undefined> {
  if (mounts.length === 0) return [];
  const m = mounts[0];
  if (mounts.length !== 1 || !m || m.target) return undefined;
  if (m.type === "bind" && m.options.includes("ro")) return [await fs.realpath(m.source)];
  if (m.type !== AUFS_MOUNT_TYPE) return undefined;
  const spec = parseAufsMount(m);
  if (spec.branches.some((b) => b.rw)) return undefined;
  return Promise.all(spec.branches.map((b) => fs.realpath(b.root)));
}

/**
 * The writable branch to read natively, or undefined when `lower` is not exactly the
 * branches under it (or its root is opaque, which a layer change cannot carry).
 */
async function nativeBranch(lower: Mount[], upper: Mount[]): Promise<string | undefined> {
  const view = await writableView(upper);
  const stack = await readOnlyStack(lower);
  if (
    !view ||
    !stack ||
    stack.length !== view.lowers.length ||
    stack.some((d, i) => d !== view.lowers[i]) ||
    rootIsOpaque(view.rw)
  ) {
    return undefined;
  }
  return view.rw;
}

/**
 * The aufs driver's native differ. `diff` reads the writable branch alone when `lower` is
 * exactly the branches under it (the branch is the layer: cost grows with the change, not
 * the image), else hands over to the fallback (core's naive differ). `apply` into a fresh
 * active snapshot extracts straight into its branch, keeping whiteouts as AUFS keeps them
 * (`.wh.<name>` files, `.wh..wh..opq` markers) and mounting nothing; into anything else
 * it hands over to the fallback.
 */
export class AufsDiffer implements Differ {
  constructor(
    private readonly store: ContentStore,
    private readonly fallback: Differ,
  ) {}

  async diff(lower: Mount[], upper: Mount[], opts: DiffOptions = {}): Promise<Descriptor> {
    const branch = await nativeBranch(lower, upper);
    if (branch === undefined) return this.fallback.diff(lower, upper, opts);
    return storeLayerBlob(this.store, aufsBranchChanges(branch, opts.signal), opts);
  }

  /** The changes `diff` would write (see {@link aufsBranchChanges}), or the fallback's. */
  async changes<T>(
    lower: Mount[],
    upper: Mount[],
    consume: (changes: AsyncIterable<LayerChange>) => Promise<T>,
    opts: DiffOptions = {},
  ): Promise<T> {
    const branch = await nativeBranch(lower, upper);
    if (branch === undefined) {
      if (this.fallback.changes) return this.fallback.changes(lower, upper, consume, opts);
      throw new NotSupportedError("aufs differ: its fallback differ cannot list changes");
    }
    return consume(aufsBranchChanges(branch, opts.signal));
  }

  /**
   * Lookups in the union of read-only branches `lower`, resolved in this process by the
   * union's own rules ({@link UnionTree}: whiteouts, opaque directories) instead of
   * through a FUSE mount, which costs a helper process and about 70 ms to start.
   */
  async lowerLookup(lower: Mount[]): Promise<LowerLookup | undefined> {
    const stack = await readOnlyStack(lower);
    if (stack === undefined) return undefined;
    if (stack.length === 0) return { lstat: () => undefined };
    const tree = new UnionTree(stack.map((root) => ({ root, rw: false })));
    return {
      lstat: (p) => {
        const union = `/${p}`;
        const e = tree.lookup(union);
        return e && tree.stat(union, e);
      },
    };
  }

  async apply(desc: Descriptor, mounts: Mount[], opts: ApplyOptions = {}): Promise<Descriptor> {
    const view = await writableView(mounts);
    // A branch that already holds entries may hold what a whiteout in the layer must
    // remove; the union (through the fallback) handles that, plain extraction would not.
    if (!view || (await fs.readdir(view.rw)).length > 0) {
      return this.fallback.apply(desc, mounts, opts);
    }
    return applyLayerBlob(this.store, desc, view.rw, {
      ...opts,
      convertWhiteout: async (w: Whiteout) => {
        if (w.kind === "opaque") {
          await touch(path.join(w.absPath, OPAQUE_MARKER));
          return false; // a fresh branch holds only what this layer made
        }
        await fs.rm(w.absPath, { recursive: true, force: true });
        const dir = path.dirname(w.absPath);
        await touch(path.join(dir, WHITEOUT_PREFIX + path.basename(w.absPath)));
        return false;
      },
    });
  }
}

async function touch(file: string): Promise<void> {
  const fh = await fs.open(file, "w", 0o444);
  await fh.close();
}
