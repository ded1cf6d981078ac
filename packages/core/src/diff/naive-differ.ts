import { createHash } from "node:crypto";
import { injectable } from "tsyringe";
import { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { layerCompression, MediaTypes } from "../image/media-types.js";
import type { Mount } from "../mount/mount.js";
import { MountManager } from "../mount/mount-manager.js";
import { createGzipSink, HashingSink } from "../util/byte-sink.js";
import { applyLayerTar } from "./apply-layer-tar.js";
import type { ApplyOptions, Differ, DiffOptions } from "./differ.js";
import { decompressLayer } from "./layer-compression.js";
import { walkChanges } from "./walk-changes.js";
import { writeLayerTar } from "./write-layer-tar.js";

/** Annotation holding the number of tar entries of a layer strata wrote. */
export const ANNOTATION_LAYER_ENTRIES = "io.strata.layer.entries";
/** Annotation holding a compressed layer's diff ID (digest of its uncompressed tar). */
export const ANNOTATION_DIFF_ID = "io.strata.diff-id";

/**
 * The differ that works on any mounts (moby's `NaiveDiffDriver`): `diff` mounts both
 * sides, walks them together ({@link walkChanges}) and streams the layer tar
 * ({@link writeLayerTar}) straight into the content store while it is hashed, in one
 * pass; `apply` extracts a stored layer ({@link applyLayerTar}). A single writable bind
 * mount is used as its source directory, without mounting.
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
    const mediaType = opts.mediaType ?? MediaTypes.OciLayer;
    const compression = layerCompression(mediaType);
    if (compression === undefined) {
      throw new InvalidArgumentError(`media type "${mediaType}": not a layer media type`);
    }
    if (compression === "zstd") {
      throw new NotSupportedError(`media type "${mediaType}": zstd layers cannot be written yet`);
    }
    opts.signal?.throwIfAborted();
    return this.mounts.withTempMount(lower, (lowerDir) =>
      this.mounts.withTempMount(upper, async (upperDir): Promise<Descriptor> => {
        const writer = await this.store.writer();
        try {
          const changes = walkChanges(lowerDir, upperDir, { signal: opts.signal });
          if (compression === "none") {
            const { entries } = await writeLayerTar(changes, writer, { signal: opts.signal });
            const blob = await writer.commit();
            return {
              mediaType,
              ...blob,
              annotations: { [ANNOTATION_LAYER_ENTRIES]: String(entries) },
            };
          }
          const gz = createGzipSink(writer);
          const tar = new HashingSink(gz);
          const { entries } = await writeLayerTar(changes, tar, { signal: opts.signal });
          await gz.close();
          const blob = await writer.commit();
          return {
            mediaType,
            ...blob,
            annotations: {
              [ANNOTATION_LAYER_ENTRIES]: String(entries),
              [ANNOTATION_DIFF_ID]: tar.digest(),
            },
          };
        } catch (err) {
          await writer.abort();
          throw err;
        }
      }),
    );
  }

  /**
   * Extract the stored layer `desc` onto the tree behind `mounts` and check it: the
   * uncompressed stream must hash to `annotations["io.strata.diff-id"]` when given, and an
   * uncompressed blob to its own digest and size; a compressed blob's bytes must still
   * hash to its digest.
   * @throws NotFoundError when the blob is not stored.
   * @throws InvalidArgumentError for a bad media type, a rejected entry or a mismatch.
   * @throws NotSupportedError for zstd without a `zstd` binary.
   */
  async apply(desc: Descriptor, mounts: Mount[], opts: ApplyOptions = {}): Promise<Descriptor> {
    const compression = layerCompression(desc.mediaType);
    if (compression === undefined) {
      throw new InvalidArgumentError(
        `layer ${desc.digest}: "${desc.mediaType}" is not a layer media type`,
      );
    }
    await this.store.info(desc.digest);
    opts.signal?.throwIfAborted();
    return this.mounts.withTempMount(mounts, async (dir) => {
      const blob = await this.store.open(desc.digest);
      const blobHash = createHash("sha256");
      let blobSize = 0;
      async function* hashedBlob(): AsyncGenerator<Buffer> {
        for await (const chunk of blob as AsyncIterable<Buffer>) {
          blobHash.update(chunk);
          blobSize += chunk.length;
          yield chunk;
        }
      }
      try {
        // An uncompressed blob's digest is its diff ID: applyLayerTar hashes it already.
        const source = compression === "none" ? (blob as AsyncIterable<Buffer>) : hashedBlob();
        const tar = await decompressLayer(source, compression);
        const res = await applyLayerTar(tar, dir, { signal: opts.signal });
        const expected = desc.annotations?.[ANNOTATION_DIFF_ID];
        if (expected !== undefined && expected !== res.diffId) {
          throw mismatch(desc, `diff ID ${expected} expected, layer hashes to ${res.diffId}`);
        }
        if (compression === "none" && (desc.digest !== res.diffId || desc.size !== res.size)) {
          throw mismatch(desc, `content hashes to ${res.diffId} (${res.size} bytes)`);
        }
        if (compression !== "none") {
          const actual = `sha256:${blobHash.digest("hex")}`;
          if (actual !== desc.digest || blobSize !== desc.size) {
            throw mismatch(desc, `blob hashes to ${actual} (${blobSize} bytes)`);
          }
        }
        return { mediaType: MediaTypes.OciLayer, digest: res.diffId, size: res.size };
      } finally {
        blob.destroy();
      }
    });
  }
}

function mismatch(desc: Descriptor, what: string): InvalidArgumentError {
  return new InvalidArgumentError(`layer ${desc.digest}: digest mismatch: ${what}`);
}
