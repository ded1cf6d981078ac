import { inject, injectable } from "tsyringe";
import { HashPipe } from "../content/hash-pipe.js";
import { ImageStore } from "../image/image-store.js";
import { MetadataStore } from "../metadata/metadata-store.js";
import type { ByteSink } from "../util/byte-sink.js";
import { type LoadArchiveOptions, type LoadedImage, loadImageArchive } from "./archive-loader.js";
import { resolveSaveNames, type SaveEntry, writeImageArchive } from "./archive-writer.js";

/** Options of {@link ImageArchiver.save}. */
export interface SaveOptions {
  signal?: AbortSignal;
}

/**
 * Moves images in and out of the store as tar archives (`docker save` / `docker load`).
 *
 * `save` writes docker 25+'s format: an OCI image layout (`oci-layout`, `index.json`,
 * `blobs/sha256/…`) with docker's `manifest.json` and `repositories` beside it, which every
 * docker since 1.10, skopeo (`docker-archive:` and, extracted, `oci:`) and umoci read.
 * `load` reads that, the older docker format (`<id>/layer.tar`, `<id>.json`) as docker ≤ 24
 * and skopeo write it, and plain OCI layout archives.
 *
 * Both stream: layers pass through in chunks and are never held in memory. A load verifies
 * every blob against its digest and every layer against the config's diff IDs before
 * anything becomes visible, and leaves the store as it was when it fails.
 *
 * @example
 * ```ts
 * const archiver = container.resolve(ImageArchiver);
 * const entries = await archiver.resolve(["busybox:latest"]);
 * await archiver.save(entries, fileSink);
 * for (const img of await archiver.load(fs.createReadStream("busybox.tar"))) console.log(img.tags);
 * ```
 */
@injectable()
export class ImageArchiver {
  constructor(
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(MetadataStore) private readonly meta: MetadataStore,
  ) {}

  /**
   * The images and tags `save` would write for `names` (docker's rules: `name:tag`, every
   * tag of a bare `name`, untagged by ID or digest). Call it before opening the output, so
   * that a bad name fails before anything is written.
   * @throws NotFoundError `No such image: …`.
   */
  resolve(names: string[]): Promise<SaveEntry[]> {
    return resolveSaveNames(this.images, names);
  }

  /**
   * Write `entries` as one archive into `sink`.
   * @throws InvalidArgumentError / NotFoundError when a stored blob is damaged or missing;
   *   what `sink` received is then incomplete and must be discarded.
   */
  save(entries: SaveEntry[], sink: ByteSink, opts: SaveOptions = {}): Promise<void> {
    return writeImageArchive(this.images, entries, sink, opts);
  }

  /**
   * Load every image of the archive `source` streams.
   * @returns the images recorded, in archive order, with their tags.
   * @throws InvalidArgumentError for a malformed, truncated, corrupt or hostile archive; the
   *   store is then unchanged.
   * @throws NotSupportedError for a zstd-compressed archive without a `zstd` binary.
   */
  load(source: AsyncIterable<Uint8Array>, opts: LoadArchiveOptions = {}): Promise<LoadedImage[]> {
    HashPipe.warm(); // large blobs are hashed on a worker: let it start while the archive opens
    return loadImageArchive(this.images, this.meta, source, opts);
  }
}
