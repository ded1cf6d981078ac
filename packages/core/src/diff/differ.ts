import type { Stats } from "node:fs";
import type { Descriptor } from "../content/descriptor.js";
import type { Mount } from "../mount/mount.js";
import type { LayerChange } from "./layer-change.js";

/** Options of {@link Differ.diff}. */
export interface DiffOptions {
  /** Abort the diff; no blob becomes visible. */
  signal?: AbortSignal;
  /** Media type of the blob to write; default `application/vnd.oci.image.layer.v1.tar`. */
  mediaType?: string;
  /** Labels stored with the blob's metadata (unused by the naive differ). */
  labels?: Record<string, string>;
  /**
   * Told the bytes of layer tar (uncompressed) written so far, as the layer grows, for a
   * progress display; called often (per tar write), so it should be cheap.
   */
  onProgress?: (bytes: number) => void;
}

/** Options of {@link Differ.apply}. */
export interface ApplyOptions {
  /** Abort the apply; the target may hold a partial layer and must be discarded. */
  signal?: AbortSignal;
  /**
   * Told the bytes of the stored blob (compressed, as `desc.size` counts them) read so
   * far, for a progress display; called often (per chunk read), so it should be cheap.
   */
  onProgress?: (bytes: number) => void;
}

/** Path lookups in the tree a set of read-only mounts shows, made without mounting it. */
export interface LowerLookup {
  /**
   * `lstat` of `path` (relative, normalized, no leading `/`) as the mounted tree would
   * show it, or undefined when nothing is visible there.
   */
  lstat(path: string): Stats | undefined;
}

/**
 * A Differ computes the changes between two trees as an OCI layer tar and applies such a
 * tar onto a tree (containerd's `diff.Comparer` and `diff.Applier` in one).
 *
 * The layer format is the OCI image-spec's (`layer.md`): added and changed entries as tar
 * entries, deleted ones as `.wh.<name>` whiteout files, directories whose lower content is
 * hidden as a `.wh..wh..opq` entry, hardlinks as typeflag `1`, xattrs as
 * `SCHILY.xattr.<name>` PAX records, device nodes and fifos as their typeflags.
 *
 * Core ships a naive differ that works on any mounts by walking both trees; a driver may
 * export a native one that reads its upper layer directly.
 */
export interface Differ {
  /**
   * Write the changes that turn `lower` into `upper` as a layer blob into the content store.
   * `lower` may be empty (`[]`) for a base layer.
   * @returns the descriptor of the written blob; for uncompressed layers its digest is the
   *   layer's diff ID. `annotations["io.strata.layer.entries"]` counts the tar entries.
   */
  diff(lower: Mount[], upper: Mount[], opts?: DiffOptions): Promise<Descriptor>;

  /**
   * Unpack the layer blob `desc` (read from the content store, decompressed per its media
   * type) onto the tree behind `mounts`, honouring whiteouts and opaque markers. Entries
   * that would land outside the tree are rejected.
   * @returns the uncompressed layer's descriptor: digest = diff ID, size = tar bytes.
   * @throws NotFoundError when the blob is not in the content store.
   * @throws InvalidArgumentError when the blob is not a valid layer or does not verify.
   */
  apply(desc: Descriptor, mounts: Mount[], opts?: ApplyOptions): Promise<Descriptor>;

  /**
   * Hand `consume` the stream of changes that {@link diff} would write for the same
   * mounts, without writing anything (what `diff CONTAINER` lists). The stream is only
   * valid inside `consume`: mounts the differ made for it go when `consume` settles.
   * A native differ reads its upper layer and may report every path it holds as `add`
   * (it cannot tell an added path from a changed one without looking below); callers that
   * need the distinction check the lower tree.
   * Optional: a differ without it is read through core's naive walk.
   */
  changes?<T>(
    lower: Mount[],
    upper: Mount[],
    consume: (changes: AsyncIterable<LayerChange>) => Promise<T>,
    opts?: DiffOptions,
  ): Promise<T>;

  /**
   * Look paths up in the tree `lower` shows without mounting it, when the differ can read
   * its layers directly (what `diff CONTAINER` does to tell `A` from `C`); undefined when
   * it cannot for these mounts. Optional: callers mount `lower` and `lstat` through it.
   */
  lowerLookup?(lower: Mount[]): Promise<LowerLookup | undefined>;
}
