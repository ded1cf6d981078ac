import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { HASH_PIPE_MIN_BYTES } from "../content/hash-pipe.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { layerCompression, MediaTypes } from "../image/media-types.js";
import { type ByteSink, createGzipSink, HashingSink } from "../util/byte-sink.js";
import { readFileChunks } from "../util/read-file-chunks.js";
import { type ApplyLayerTarOptions, applyLayerTar } from "./apply-layer-tar.js";
import type { LayerChange } from "./layer-change.js";
import { decompressLayer } from "./layer-compression.js";
import { type WriteLayerTarOptions, writeLayerTar } from "./write-layer-tar.js";

/** Annotation holding the number of tar entries of a layer strata wrote. */
export const ANNOTATION_LAYER_ENTRIES = "io.strata.layer.entries";
/** Annotation holding the bytes of content a layer strata wrote adds (docker's layer size). */
export const ANNOTATION_LAYER_SIZE = "io.strata.layer.size";
/** Annotation holding a compressed layer's diff ID (digest of its uncompressed tar). */
export const ANNOTATION_DIFF_ID = "io.strata.diff-id";

/** Options of {@link storeLayerBlob}. */
export interface StoreLayerBlobOptions extends WriteLayerTarOptions {
  /** Media type of the blob: an OCI or docker tar type (default OCI tar) or a gzip one. */
  mediaType?: string;
  /** Told the bytes of uncompressed tar written so far (see `DiffOptions.onProgress`). */
  onProgress?: (bytes: number) => void;
}

/** Options of {@link applyLayerBlob}. */
export interface ApplyLayerBlobOptions extends ApplyLayerTarOptions {
  /** Told the bytes of the stored blob read so far (see `ApplyOptions.onProgress`). */
  onProgress?: (bytes: number) => void;
}

/** `sink`, telling `onProgress` the running total of bytes written through it. */
function countingSink(sink: ByteSink, onProgress: (bytes: number) => void): ByteSink {
  let bytes = 0;
  return {
    async write(chunk) {
      await sink.write(chunk);
      bytes += chunk.length;
      onProgress(bytes);
    },
  };
}

/**
 * Write `changes` as a layer blob into the content store in one pass (tar, optional gzip,
 * hash, write): the tail every differ shares, naive or native.
 * @returns the blob's descriptor; a gzip one carries the diff ID in
 *   `annotations["io.strata.diff-id"]`, every one the entry count and content size.
 * @throws NotSupportedError for zstd; InvalidArgumentError for a non-layer media type.
 */
export async function storeLayerBlob(
  store: ContentStore,
  changes: AsyncIterable<LayerChange> | Iterable<LayerChange>,
  opts: StoreLayerBlobOptions = {},
): Promise<Descriptor> {
  const mediaType = opts.mediaType ?? MediaTypes.OciLayer;
  const compression = layerCompression(mediaType);
  if (compression === undefined) {
    throw new InvalidArgumentError(`media type "${mediaType}": not a layer media type`);
  }
  if (compression === "zstd") {
    throw new NotSupportedError(`media type "${mediaType}": zstd layers cannot be written yet`);
  }
  opts.signal?.throwIfAborted();
  // A layer is usually large: hash and write it on a worker while this thread tars.
  const writer = await store.writer({}, { offload: true });
  try {
    const progress = opts.onProgress;
    if (compression === "none") {
      const sink = progress ? countingSink(writer, progress) : writer;
      const { entries, contentSize } = await writeLayerTar(changes, sink, opts);
      const blob = await writer.commit();
      return {
        mediaType,
        ...blob,
        annotations: {
          [ANNOTATION_LAYER_ENTRIES]: String(entries),
          [ANNOTATION_LAYER_SIZE]: String(contentSize),
        },
      };
    }
    const gz = createGzipSink(writer);
    const tar = new HashingSink(gz);
    const sink = progress ? countingSink(tar, progress) : tar;
    const { entries, contentSize } = await writeLayerTar(changes, sink, opts);
    await gz.close();
    const blob = await writer.commit();
    return {
      mediaType,
      ...blob,
      annotations: {
        [ANNOTATION_LAYER_ENTRIES]: String(entries),
        [ANNOTATION_LAYER_SIZE]: String(contentSize),
        [ANNOTATION_DIFF_ID]: tar.digest(),
      },
    };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/**
 * Extract the stored layer `desc` onto the directory `dir` and check it: the uncompressed
 * stream must hash to `annotations["io.strata.diff-id"]` when given, and an uncompressed
 * blob to its own digest and size; a compressed blob's bytes must still hash to its digest.
 * @returns the uncompressed layer's descriptor (digest = diff ID, size = tar bytes).
 * @throws NotFoundError when the blob is not stored.
 * @throws InvalidArgumentError for a bad media type, a rejected entry or a mismatch.
 * @throws NotSupportedError for zstd without a `zstd` binary.
 */
export async function applyLayerBlob(
  store: ContentStore,
  desc: Descriptor,
  dir: string,
  opts: ApplyLayerBlobOptions = {},
): Promise<Descriptor> {
  const compression = layerCompression(desc.mediaType);
  if (compression === undefined) {
    throw new InvalidArgumentError(
      `layer ${desc.digest}: "${desc.mediaType}" is not a layer media type`,
    );
  }
  await store.info(desc.digest);
  opts.signal?.throwIfAborted();
  const progress = opts.onProgress;
  let blobSize = 0;
  if (compression === "none") {
    // The blob is the tar: read it into one reused buffer (see readFileChunks), and let
    // applyLayerTar's hash of the stream, the diff ID, check the blob's digest too.
    const fd = fs.openSync(store.blobPath(desc.digest), "r");
    async function* countedBlob(): AsyncGenerator<Buffer> {
      for await (const chunk of readFileChunks(fd)) {
        blobSize += chunk.length;
        progress?.(blobSize);
        yield chunk;
      }
    }
    try {
      const res = await applyLayerTar(progress ? countedBlob() : readFileChunks(fd), dir, {
        ...opts,
        hashOnWorker: desc.size >= HASH_PIPE_MIN_BYTES,
      });
      const expected = desc.annotations?.[ANNOTATION_DIFF_ID];
      if (expected !== undefined && expected !== res.diffId) {
        throw mismatch(desc, `diff ID ${expected} expected, layer hashes to ${res.diffId}`);
      }
      if (desc.digest !== res.diffId || desc.size !== res.size) {
        throw mismatch(desc, `content hashes to ${res.diffId} (${res.size} bytes)`);
      }
      return { mediaType: MediaTypes.OciLayer, digest: res.diffId, size: res.size };
    } finally {
      fs.closeSync(fd);
    }
  }
  // A decompressor holds on to the chunks it is given: a read stream's own chunks, here.
  const blob = await store.open(desc.digest);
  const blobHash = createHash("sha256");
  async function* hashedBlob(): AsyncGenerator<Buffer> {
    for await (const chunk of blob as AsyncIterable<Buffer>) {
      blobHash.update(chunk);
      blobSize += chunk.length;
      progress?.(blobSize);
      yield chunk;
    }
  }
  try {
    const tar = await decompressLayer(hashedBlob(), compression);
    const res = await applyLayerTar(tar, dir, {
      ...opts,
      hashOnWorker: desc.size >= HASH_PIPE_MIN_BYTES,
    });
    const expected = desc.annotations?.[ANNOTATION_DIFF_ID];
    if (expected !== undefined && expected !== res.diffId) {
      throw mismatch(desc, `diff ID ${expected} expected, layer hashes to ${res.diffId}`);
    }
    const actual = `sha256:${blobHash.digest("hex")}`;
    if (actual !== desc.digest || blobSize !== desc.size) {
      throw mismatch(desc, `blob hashes to ${actual} (${blobSize} bytes)`);
    }
    return { mediaType: MediaTypes.OciLayer, digest: res.diffId, size: res.size };
  } finally {
    blob.destroy();
  }
}

function mismatch(desc: Descriptor, what: string): InvalidArgumentError {
  return new InvalidArgumentError(`layer ${desc.digest}: digest mismatch: ${what}`);
}
