import { injectable } from "tsyringe";
import { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import type { Mount } from "../mount/mount.js";
import { MountManager } from "../mount/mount-manager.js";
import type { ApplyOptions, Differ, DiffOptions } from "./differ.js";
import { applyLayerBlob, storeLayerBlob } from "./layer-blob.js";
import type { LayerChange } from "./layer-change.js";
import { walkChanges } from "./walk-changes.js";

export { ANNOTATION_DIFF_ID, ANNOTATION_LAYER_ENTRIES } from "./layer-blob.js";

/**
 * The differ that works on any mounts (moby's `NaiveDiffDriver`): `diff` mounts both
 * sides, walks them together ({@link walkChanges}) and streams the layer tar straight into
 * the content store while it is hashed, in one pass ({@link storeLayerBlob}); `apply`
 * extracts a stored layer ({@link applyLayerBlob}). A single writable bind mount is used
 * as its source directory, without mounting.
 *
 * Drivers with cheaper access to their changes (overlay's upper dir, aufs' rw branch)
 * provide a native differ built from the same pieces.
 */
@injectable()
export class NaiveDiffer implements Differ {
  constructor(
    private readonly store: ContentStore,
    private readonly mounts: MountManager,
  ) {}

  /**
   * Write the layer that turns `lower` into `upper` into the content store.
   * `opts.mediaType` may be the OCI or docker tar type (default OCI tar) or a gzip one;
   * a gzip descriptor carries the diff ID in `annotations["io.strata.diff-id"]`.
   * @throws NotSupportedError for zstd.
   * @throws InvalidArgumentError for a media type that is not a layer's.
   */
  async diff(lower: Mount[], upper: Mount[], opts: DiffOptions = {}): Promise<Descriptor> {
    opts.signal?.throwIfAborted();
    return this.mounts.withTempMount(lower, (lowerDir) =>
      this.mounts.withTempMount(upper, (upperDir) =>
        storeLayerBlob(this.store, walkChanges(lowerDir, upperDir, { signal: opts.signal }), opts),
      ),
    );
  }

  /**
   * Hand `consume` the changes {@link diff} would write: both sides mounted, walked
   * together ({@link walkChanges}); the mounts go when `consume` settles.
   */
  async changes<T>(
    lower: Mount[],
    upper: Mount[],
    consume: (changes: AsyncIterable<LayerChange>) => Promise<T>,
    opts: DiffOptions = {},
  ): Promise<T> {
    opts.signal?.throwIfAborted();
    return this.mounts.withTempMount(lower, (lowerDir) =>
      this.mounts.withTempMount(upper, (upperDir) =>
        consume(walkChanges(lowerDir, upperDir, { signal: opts.signal })),
      ),
    );
  }

  /**
   * Extract the stored layer `desc` onto the tree behind `mounts` (see {@link applyLayerBlob}).
   * @throws NotFoundError when the blob is not stored.
   * @throws InvalidArgumentError for a bad media type, a rejected entry or a mismatch.
   * @throws NotSupportedError for zstd without a `zstd` binary.
   */
  async apply(desc: Descriptor, mounts: Mount[], opts: ApplyOptions = {}): Promise<Descriptor> {
    await this.store.info(desc.digest);
    return this.mounts.withTempMount(mounts, (dir) => applyLayerBlob(this.store, desc, dir, opts));
  }
}
