import * as path from "node:path";
import {
  ANNOTATION_LAYER_SIZE,
  type ContentStore,
  type Descriptor,
  type Differ,
  type DriverContext,
  ImageArchiver,
  type ImageRecord,
  ImageStore,
  LayerUnpacker,
  MediaTypes,
  MetadataStore,
  type Mount,
  type MountManager,
  NaiveDiffer,
  parseTagTarget,
} from "@strata/core";
import { VfsSnapshotter } from "@strata/driver-vfs";

/**
 * strata's image services over the run's content store, wired by hand from the public API
 * as a third party would: the metadata database beside the content store, the image store
 * and the archiver (save/load). The unpacker is never used (nothing here runs an image);
 * the image store needs one.
 */
export class ImageRig {
  readonly meta: MetadataStore;
  readonly images: ImageStore;
  readonly archiver: ImageArchiver;

  constructor(
    readonly root: string,
    readonly content: ContentStore,
    mounts: MountManager,
  ) {
    this.meta = new MetadataStore(root);
    const context: DriverContext = {
      name: "vfs",
      storeRoot: root,
      root: path.join(root, "vfs"),
      options: {},
    };
    const unpacker = new LayerUnpacker(
      new VfsSnapshotter(context.root),
      new NaiveDiffer(content, mounts),
      this.meta,
      context,
    );
    this.images = new ImageStore(content, this.meta, unpacker);
    this.archiver = new ImageArchiver(this.images, this.meta);
  }

  /**
   * Record an image of `layers` (uncompressed layer blobs already in the content store,
   * bottom first), tagged `tag`, as `import` or `load` would.
   */
  async addImage(layers: readonly Descriptor[], tag?: string): Promise<ImageRecord> {
    const config = imageConfig(
      layers.map((l) => l.digest),
      "bench",
    );
    return this.images.addImage({
      config: Buffer.from(JSON.stringify(config)),
      layers: layers.map((l) => ({
        diffId: l.digest,
        blob: { mediaType: MediaTypes.DockerLayer, digest: l.digest, size: l.size },
        size: Number(l.annotations?.[ANNOTATION_LAYER_SIZE] ?? l.size),
      })),
      ...(tag ? { tags: [parseTagTarget(tag)] } : {}),
    });
  }

  /**
   * What `strata commit` does once the container is found (`ContainerFilesystem.commit`
   * without runc's pause, as for a stopped container): the differ writes the change's
   * layer into the content store (walk, tar, sha256, blob write with fsync), then a new
   * config with a history entry and a new image record on top of `base`.
   */
  async commit(
    differ: Differ,
    lower: Mount[],
    upper: Mount[],
    base: ImageRecord,
  ): Promise<{ layer: Descriptor; image: ImageRecord }> {
    const layer = await differ.diff(lower, upper, { mediaType: MediaTypes.DockerLayer });
    const diffIds = [...base.layers.map((l) => l.diffId), layer.digest];
    const config = imageConfig(diffIds, "bench commit");
    const image = await this.images.addImage({
      config: Buffer.from(JSON.stringify(config)),
      layers: [
        ...base.layers.map((l) => ({ diffId: l.diffId, blob: l.blob, size: l.size })),
        {
          diffId: layer.digest,
          blob: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
          size: Number(layer.annotations?.[ANNOTATION_LAYER_SIZE] ?? 0),
        },
      ],
      parent: base.id,
    });
    return { layer, image };
  }

  close(): void {
    this.meta.close();
  }
}

/** A minimal image config over `diffIds`, created now (so every commit is a new image). */
function imageConfig(diffIds: string[], comment: string): Record<string, unknown> {
  const created = new Date().toISOString();
  return {
    architecture: "amd64",
    os: "linux",
    created,
    comment,
    config: { Cmd: ["/bin/sh"] },
    history: diffIds.map(() => ({ created, created_by: comment })),
    rootfs: { type: "layers", diff_ids: diffIds },
  };
}
