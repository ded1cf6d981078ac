import * as fs from "node:fs/promises";
import {
  type ApplyOptions,
  applyLayerBlob,
  type ContentStore,
  type Descriptor,
  type Differ,
  type DiffOptions,
  type LayerChange,
  type Mount,
  mknod,
  NotSupportedError,
  storeLayerBlob,
  type Whiteout,
  writeXattr,
} from "@strata/core";
import { layerXattr, OPAQUE_XATTR, overlayUpperChanges } from "./overlay-changes.js";

/** Where an overlay (or base bind) mount keeps its own layer, and what lies below it. */
interface LayerView {
  /** The snapshot's own directory (`upperdir=`, or the bind source of a base snapshot). */
  upper: string;
  /** Lower directories, top first, resolved to real paths. */
  lowers: string[];
}

async function realLowers(option: string | undefined): Promise<string[]> {
  if (!option) return [];
  return Promise.all(
    option
      .slice("lowerdir=".length)
      .split(":")
      .map((p) => fs.realpath(p)),
  );
}

/** The layer view of writable mounts, or undefined when they are not overlay's. */
async function writableView(mounts: readonly Mount[]): Promise<LayerView | undefined> {
  const m = mounts[0];
  if (mounts.length !== 1 || !m || m.target) return undefined;
  if (m.type === "bind" && !m.options.includes("ro")) return { upper: m.source, lowers: [] };
  if (m.type !== "overlay") return undefined;
  const upper = m.options.find((o) => o.startsWith("upperdir="));
  if (!upper) return undefined;
  return {
    upper: upper.slice("upperdir=".length),
    lowers: await realLowers(m.options.find((o) => o.startsWith("lowerdir="))),
  };
}

/** The stack of directories read-only mounts show, top first; undefined when unknown. */
async function readOnlyStack(mounts: readonly Mount[]): Promise<string[] | undefined> {
  if (mounts.length === 0) return [];
  const m = mounts[0];
  if (mounts.length !== 1 || !m || m.target) return undefined;
  if (m.type === "bind") return [await fs.realpath(m.source)];
  if (m.type === "overlay" && !m.options.some((o) => o.startsWith("upperdir="))) {
    return realLowers(m.options.find((o) => o.startsWith("lowerdir=")));
  }
  return undefined;
}

/** The upper directory to read natively, or undefined when `lower` is not the upper's stack. */
async function nativeUpper(lower: Mount[], upper: Mount[]): Promise<string | undefined> {
  const view = await writableView(upper);
  const stack = await readOnlyStack(lower);
  if (
    !view ||
    !stack ||
    stack.length !== view.lowers.length ||
    stack.some((d, i) => d !== view.lowers[i])
  ) {
    return undefined;
  }
  return view.upper;
}

/**
 * Overlay's native differ. `diff` reads only the upper directory when `lower` is exactly
 * the upper's lower stack (cost grows with the change, not the image) and otherwise hands
 * over to the naive differ; `apply` extracts straight into an active snapshot's upper
 * directory, turning `.wh.<name>` into 0/0 character devices and `.wh..wh..opq` into the
 * `trusted.overlay.opaque=y` xattr, without mounting anything.
 */
export class OverlayDiffer implements Differ {
  constructor(
    private readonly store: ContentStore,
    private readonly fallback: Differ,
  ) {}

  async diff(lower: Mount[], upper: Mount[], opts: DiffOptions = {}): Promise<Descriptor> {
    const upperDir = await nativeUpper(lower, upper);
    if (upperDir === undefined) return this.fallback.diff(lower, upper, opts);
    return storeLayerBlob(this.store, overlayUpperChanges(upperDir, opts.signal), {
      ...opts,
      xattrFilter: layerXattr,
    });
  }

  /**
   * The changes `diff` would write: the upper directory's entries (every path it holds as
   * `add`, 0/0 devices as `delete`, opaque directories as `opaque`) when `lower` is the
   * upper's lower stack, else the fallback's walk.
   */
  async changes<T>(
    lower: Mount[],
    upper: Mount[],
    consume: (changes: AsyncIterable<LayerChange>) => Promise<T>,
    opts: DiffOptions = {},
  ): Promise<T> {
    const upperDir = await nativeUpper(lower, upper);
    if (upperDir === undefined) {
      if (this.fallback.changes) return this.fallback.changes(lower, upper, consume, opts);
      throw new NotSupportedError("overlay differ: its fallback differ cannot list changes");
    }
    return consume(overlayUpperChanges(upperDir, opts.signal));
  }

  async apply(desc: Descriptor, mounts: Mount[], opts: ApplyOptions = {}): Promise<Descriptor> {
    const view = await writableView(mounts);
    if (!view) return this.fallback.apply(desc, mounts, opts);
    const hasLowers = view.lowers.length > 0;
    return applyLayerBlob(this.store, desc, view.upper, {
      ...opts,
      // A layer may not speak for overlay: its trusted.overlay.* xattrs are not set.
      xattrFilter: layerXattr,
      // Whiteouts only mean something over lower layers; a base layer just drops them.
      convertWhiteout: async (w: Whiteout) => {
        if (!hasLowers) return true;
        if (w.kind === "opaque") {
          writeXattr(w.absPath, OPAQUE_XATTR, Buffer.from("y"));
          return true; // also empty what this layer did not create in that directory
        }
        await fs.rm(w.absPath, { recursive: true, force: true });
        await mknod(w.absPath, "char", { major: 0, minor: 0 });
        return false;
      },
    });
  }
}
