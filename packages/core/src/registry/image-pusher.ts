import { inject, injectable } from "tsyringe";
import { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { sha256Digest } from "../content/digest.js";
import { InvalidArgumentError, isErrorCode, NotFoundError } from "../errors.js";
import { ImageStore } from "../image/image-store.js";
import type { ImageManifest, ImageRecord, LayerRecord } from "../image/image-types.js";
import { layerCompression, MediaTypes } from "../image/media-types.js";
import {
  familiarString,
  fullName,
  type Reference,
  referenceString,
  withDefaultTag,
} from "../image/reference.js";
import { mountBlob, uploadBlob } from "./blob-upload.js";
import { registryError } from "./error-response.js";
import { gzipLayer, zstdLayer } from "./layer-compressor.js";
import { mapLimit, type ProgressListener, shortDigest } from "./progress.js";
import { RegistryClient } from "./registry-client.js";
import { RegistryMetadata } from "./registry-metadata.js";
import { header, type RemoteRepository } from "./remote-repository.js";

/** Options of {@link ImagePusher.push}. */
export interface PushOptions {
  /** Layers uploaded at once (`--max-concurrent-uploads`, default 5 as docker). */
  maxConcurrentUploads?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /**
   * How uncompressed layers are compressed: `gzip` (default, what every client reads) or
   * `zstd` (smaller and faster; the manifest is then an OCI one). Layers stored compressed
   * go as they are.
   */
  compression?: "gzip" | "zstd";
}

/** What a push did. */
export interface PushResult {
  reference: Reference & { tag: string };
  /** Digest of the manifest the registry now has under the tag. */
  digest: string;
  /** The manifest's size in bytes. */
  size: number;
}

/** What happened to one layer. */
type LayerOutcome = "exists" | "mounted" | "pushed";

/**
 * `push`: uploads an image's layers, config and manifest to a registry. Blobs the
 * repository has are skipped (`HEAD`); blobs known to be in another repository of the same
 * registry are cross-mounted; the rest are uploaded. Uncompressed layers (imported or
 * committed images) are gzipped on every core first and the result is kept in the content
 * store and remembered, so the next push of the same layer sends the same digest (and then
 * nothing). A pulled image whose blobs all go unchanged is pushed with its manifest's exact
 * bytes, so its digest stays the one it was pulled by.
 */
@injectable()
export class ImagePusher {
  constructor(
    @inject(RegistryClient) private readonly client: RegistryClient,
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(ContentStore) private readonly content: ContentStore,
    @inject(RegistryMetadata) private readonly registryMeta: RegistryMetadata,
  ) {}

  /**
   * Push the image `ref` names (its tag, `latest` when none).
   * @throws NotFoundError `An image does not exist locally with the tag: …`.
   * @throws InvalidArgumentError for a digest reference.
   * @throws FailedPreconditionError when the registry refuses (`denied`, `unauthorized`).
   */
  async push(input: Reference, opts: PushOptions = {}): Promise<PushResult> {
    if (input.digest) throw new InvalidArgumentError("cannot push a digest reference");
    const ref = withDefaultTag(input) as Reference & { tag: string };
    const emit = opts.onProgress ?? (() => {});
    let img: ImageRecord;
    try {
      img = await this.images.resolve(referenceString(ref));
    } catch (err) {
      if (!isErrorCode(err, "NOT_FOUND")) throw err;
      throw new NotFoundError(
        `An image does not exist locally with the tag: ${familiarString({ ...input, tag: undefined } as Reference)}`,
      );
    }
    emit({ status: `The push refers to repository [${fullName(ref)}]` });
    const repo = this.client.repository(ref, "pull,push");
    const repoName = `${ref.domain}/${ref.path}`;
    const stored = await this.images.manifest(img);
    const oci =
      stored.mediaType === MediaTypes.OciManifest ||
      (!stored.mediaType && stored.config.mediaType === MediaTypes.OciConfig);

    // docker lists layers top first, by diff ID.
    const order = img.layers.map((_, i) => img.layers.length - 1 - i);
    const limit = Math.max(1, opts.maxConcurrentUploads ?? 5);
    for (const i of order) emit({ id: shortDigest(img.layers[i]!.diffId), status: "Preparing" });
    for (const i of order.slice(limit))
      emit({ id: shortDigest(img.layers[i]!.diffId), status: "Waiting" });

    const blobs: Descriptor[] = new Array(img.layers.length);
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await mapLimit(order, limit, async (i) => {
        const layer = img.layers[i]!;
        const id = shortDigest(layer.diffId);
        try {
          // docker shows a layer as "Pushing" while it compresses it, by uncompressed bytes.
          const blob = await this.pushableBlob(
            img,
            layer,
            opts.compression ?? "gzip",
            ctl.signal,
            (done) => emit({ id, status: "Pushing", current: done, total: layer.blob.size }),
          );
          blobs[i] = blob;
          const outcome = await this.pushBlob(repo, repoName, blob, ctl.signal, (sent) =>
            emit({ id, status: "Pushing", current: sent, total: blob.size }),
          );
          if (outcome.kind === "exists") emit({ id, status: "Layer already exists" });
          else if (outcome.kind === "mounted") emit({ id, status: `Mounted from ${outcome.from}` });
          else emit({ id, status: "Pushed" });
        } catch (err) {
          ctl.abort(err);
          throw err;
        }
      });
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
    opts.signal?.throwIfAborted();

    const configDesc: Descriptor = {
      mediaType: stored.config.mediaType,
      digest: img.id,
      size: (await this.content.info(img.id)).size,
    };
    await this.pushBlob(repo, repoName, configDesc, opts.signal);

    const unchanged =
      stored.layers.length === blobs.length &&
      stored.layers.every((l, i) => l.digest === blobs[i]!.digest) &&
      layerCompression(stored.layers[0]?.mediaType ?? MediaTypes.OciLayerGzip) !== "none";
    // zstd layers exist only in OCI manifests.
    const asOci = oci || blobs.some((b) => layerCompression(b.mediaType) === "zstd");
    const bytes = unchanged
      ? await this.content.readVerified(img.manifestDigest)
      : Buffer.from(JSON.stringify(buildManifest(stored, configDesc, blobs, asOci), null, 3));
    const mediaType = unchanged
      ? (stored.mediaType ?? (oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest))
      : asOci
        ? MediaTypes.OciManifest
        : MediaTypes.DockerManifest;
    const res = await repo.request("PUT", `manifests/${ref.tag}`, {
      headers: { "content-type": mediaType },
      body: bytes,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const text = await res.body.text().catch(() => "");
    if (res.status !== 201 && res.status !== 200)
      throw registryError(res.status, text, "manifest upload");
    const digest = sha256Digest(bytes);
    const claimed = header(res, "docker-content-digest");
    if (claimed && claimed !== digest) {
      throw new InvalidArgumentError(
        `manifest upload: registry stored ${claimed}, expected ${digest}`,
      );
    }
    await this.content.put(bytes, { digest });
    this.images.linkBlobs(img.id, [digest]);
    this.images.addRepoDigests(img.id, [{ domain: ref.domain, path: ref.path, digest }]);
    return { reference: ref, digest, size: bytes.length };
  }

  /** The compressed blob to push for a layer: its own, or its (made once) gzip variant. */
  private async pushableBlob(
    img: ImageRecord,
    layer: LayerRecord,
    compression: "gzip" | "zstd",
    signal: AbortSignal,
    onProgress?: (done: number) => void,
  ): Promise<Descriptor> {
    if (layerCompression(layer.blob.mediaType) !== "none") return layer.blob;
    const mediaType = compression === "zstd" ? MediaTypes.OciLayerZstd : MediaTypes.OciLayerGzip;
    const known = this.registryMeta.variant(layer.diffId, mediaType);
    if (known && (await this.content.has(known.digest))) {
      this.images.linkBlobs(img.id, [known.digest]);
      return known;
    }
    const compress = compression === "zstd" ? zstdLayer : gzipLayer;
    const gz = await compress(this.content, layer.blob, {
      signal,
      ...(onProgress ? { onProgress } : {}),
    });
    this.registryMeta.setVariant(layer.diffId, gz);
    this.images.linkBlobs(img.id, [gz.digest]);
    return gz;
  }

  /** Make `repo` have `blob`: skip it, mount it from a sibling repository, or upload it. */
  private async pushBlob(
    repo: RemoteRepository,
    repoName: string,
    blob: Descriptor,
    signal?: AbortSignal,
    onProgress?: (sent: number) => void,
  ): Promise<{ kind: LayerOutcome; from?: string }> {
    if (await repo.hasBlob(blob.digest, signal)) {
      this.registryMeta.addBlobSources([blob.digest], repoName);
      return { kind: "exists" };
    }
    const domain = repo.transport.endpoint.domain;
    let location: string | undefined;
    for (const source of this.registryMeta.blobSources(blob.digest)) {
      if (!source.startsWith(`${domain}/`) || source === repoName) continue;
      const from = source.slice(domain.length + 1);
      const result = await mountBlob(repo, blob.digest, from, signal);
      if (result.mounted) {
        this.registryMeta.addBlobSources([blob.digest], repoName);
        return { kind: "mounted", from };
      }
      this.registryMeta.removeBlobSource(blob.digest, source);
      location ??= result.location;
    }
    await uploadBlob(repo, this.content, blob, {
      ...(signal ? { signal } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(location ? { location } : {}),
    });
    this.registryMeta.addBlobSources([blob.digest], repoName);
    return { kind: "pushed" };
  }
}

/** A manifest for the pushed blobs, in the stored manifest's family (OCI or docker). */
function buildManifest(
  stored: ImageManifest,
  config: Descriptor,
  layers: readonly Descriptor[],
  oci: boolean,
): ImageManifest {
  const layerType = (d: Descriptor): string => {
    const c = layerCompression(d.mediaType);
    if (oci)
      return c === "gzip"
        ? MediaTypes.OciLayerGzip
        : c === "zstd"
          ? MediaTypes.OciLayerZstd
          : MediaTypes.OciLayer;
    return c === "gzip"
      ? MediaTypes.DockerLayerGzip
      : c === "zstd"
        ? MediaTypes.DockerLayerZstd
        : MediaTypes.DockerLayer;
  };
  return {
    schemaVersion: 2,
    mediaType: oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest,
    config: {
      mediaType: oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig,
      size: config.size,
      digest: config.digest,
    },
    layers: layers.map((d) => ({ mediaType: layerType(d), size: d.size, digest: d.digest })),
    ...(stored.annotations ? { annotations: stored.annotations } : {}),
  };
}
