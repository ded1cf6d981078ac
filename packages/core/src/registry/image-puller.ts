import { inject, injectable } from "tsyringe";
import { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { isDigest } from "../content/digest.js";
import { HashPipe } from "../content/hash-pipe.js";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  isErrorCode,
  NotFoundError,
  NotSupportedError,
} from "../errors.js";
import { parseImageConfig, parseImageIndex, parseImageManifest } from "../image/image-documents.js";
import { ImageStore } from "../image/image-store.js";
import type { ImageConfig, ImageRecord } from "../image/image-types.js";
import { layerCompression, MediaTypes } from "../image/media-types.js";
import {
  familiarName,
  familiarString,
  type Reference,
  withDefaultTag,
} from "../image/reference.js";
import { downloadBlob } from "./blob-download.js";
import { registryErrorInfo } from "./error-response.js";
import { layerSizeHint } from "./layer-size.js";
import {
  platformMatches,
  platformString,
  requestedPlatform,
  selectManifest,
} from "./platform-match.js";
import { mapLimit, type ProgressListener, shortDigest } from "./progress.js";
import { RegistryClient } from "./registry-client.js";
import { RegistryMetadata } from "./registry-metadata.js";
import type { FetchedManifest, RemoteRepository } from "./remote-repository.js";

/** Largest image config a pull accepts (8 MiB, as the largest JSON file `load` reads). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Options of {@link ImagePuller.pull}. */
export interface PullOptions {
  /** `--platform` (`os[/arch[/variant]]`): which image of an index; default this machine's. */
  platform?: string;
  /** Layers downloaded at once (`--max-concurrent-downloads`, default 3). */
  maxConcurrentDownloads?: number;
  /** Progress in docker's words; see {@link ProgressListener}. */
  onProgress?: ProgressListener;
  /** Abort (Ctrl-C): partial blobs are removed, completed layers stay in the content store. */
  signal?: AbortSignal;
}

/** What a pull did. */
export interface PullResult {
  /** The reference pulled (tag defaulted to `latest`, or the digest). */
  reference: Reference;
  /** Digest of the manifest or index the reference resolved to (`Digest:` line). */
  digest: string;
  image: ImageRecord;
  /** True when the reference already named this image and nothing was downloaded. */
  upToDate: boolean;
}

/** A layer of the manifest being pulled, with what is known of it locally. */
interface PlannedLayer {
  desc: Descriptor;
  diffId: string;
  /** The layer as stored already (same diff ID, possibly another blob), if any. */
  existing?: { diffId: string; blob: Descriptor; size: number };
}

/**
 * `pull`: resolves a reference on its registry (docker.io's mirrors first), picks the
 * platform's manifest from an index, and downloads config and layers into the content
 * store, verified, concurrently and skipping what is stored already; then records the
 * image with its tag and repo digest in one transaction. Layers stay compressed as the
 * registry serves them; they are unpacked into a driver when a container first needs them.
 */
@injectable()
export class ImagePuller {
  constructor(
    @inject(RegistryClient) private readonly client: RegistryClient,
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(ContentStore) private readonly content: ContentStore,
    @inject(RegistryMetadata) private readonly registryMeta: RegistryMetadata,
  ) {}

  /**
   * Every tag of `ref`'s repository (`pull -a`).
   * @throws NotFoundError when the repository does not exist.
   */
  async tags(ref: Reference, signal?: AbortSignal): Promise<string[]> {
    let lastErr: unknown;
    for (const t of this.client.pullTransports(ref.domain)) {
      try {
        return await this.client.repository(ref, "pull", t).tags(signal);
      } catch (err) {
        lastErr = err;
        signal?.throwIfAborted();
      }
    }
    throw translate(lastErr, ref);
  }

  /**
   * Pull `ref` (a tag — `latest` when none — or a digest).
   * @throws NotFoundError `manifest for … not found: …` when the registry has no such tag.
   * @throws FailedPreconditionError `pull access denied for …` when the registry refuses.
   * @throws InvalidArgumentError when a manifest, config or layer does not match its digest
   *   (nothing of it is stored), or `no matching manifest for <platform> …`.
   * @throws UnavailableError when the registry cannot be reached.
   */
  async pull(ref: Reference, opts: PullOptions = {}): Promise<PullResult> {
    HashPipe.warm(); // large layers are hashed on a worker: let it start during the manifests
    const tagged = withDefaultTag(ref);
    const reference = tagged.digest ?? tagged.tag!;
    const emit = opts.onProgress ?? (() => {});
    const { repo, top } = await this.resolve(tagged, reference, opts.signal);

    emit({ status: `${reference}: Pulling from ${ref.path}` });
    const want = requestedPlatform(opts.platform);
    let manifest = top;
    const indexBlobs: string[] = [];
    if (isIndex(top)) {
      const index = parseImageIndex(top.bytes, `manifest list ${top.digest}`);
      const entry = selectManifest(index.manifests, want);
      if (!entry) {
        throw new NotFoundError(
          `no matching manifest for ${platformString(want)} in the manifest list entries`,
        );
      }
      manifest = await this.manifestBytes(repo, entry.digest, opts.signal);
      if (isIndex(manifest)) {
        throw new NotSupportedError(
          `manifest ${entry.digest}: nested image indexes are not supported`,
        );
      }
      indexBlobs.push(top.digest);
    }
    const parsed = parseImageManifest(
      manifest.bytes,
      manifest.mediaType,
      `manifest ${manifest.digest}`,
    );
    const { bytes: configBytes, config } = await this.configBytes(repo, parsed.config, opts.signal);
    if (opts.platform && !isIndex(top) && !platformMatches(config, want)) {
      throw new NotFoundError(
        `image with reference ${familiarString(tagged)} was found but does not match the specified platform: wanted ${platformString(want)}, actual: ${platformString(config)}`,
      );
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== parsed.layers.length) {
      throw new InvalidArgumentError(
        `image ${parsed.config.digest}: config has ${diffIds.length} diff IDs for ${parsed.layers.length} layers`,
      );
    }

    const before = await this.images.resolve(familiarString(tagged)).catch(() => undefined);
    // docker skips the layers of an image it has already (same config): nothing to show.
    const known = await this.images.resolve(parsed.config.digest).catch(() => undefined);
    const complete =
      known?.layers.length === diffIds.length && !known.problem
        ? await this.allStored(known.layers.map((l) => l.blob.digest))
        : false;
    const downloaded = complete
      ? {
          count: 0,
          existing: known!.layers.map((l) => ({ diffId: l.diffId, blob: l.blob, size: l.size })),
        }
      : await this.fetchLayers(repo, parsed.layers, diffIds, opts);
    const layers = await Promise.all(
      parsed.layers.map(async (desc, i) => {
        const existing = downloaded.existing[i];
        if (existing) return existing;
        return { diffId: diffIds[i]!, blob: desc, size: await layerSizeHint(this.content, desc) };
      }),
    );
    // The index is stored only now (addImage stores config and manifest): a pull refused on
    // the way leaves none of its documents behind, only the layers that completed.
    if (isIndex(top)) await this.content.put(top.bytes, { digest: top.digest });
    const image = await this.images.addImage({
      config: configBytes,
      layers,
      manifest: manifest.bytes,
      ...(tagged.tag !== undefined && !tagged.digest ? { tags: [tagged] } : {}),
      repoDigests: [{ domain: ref.domain, path: ref.path, digest: top.digest }],
      blobs: indexBlobs,
    });
    this.registryMeta.addBlobSources(
      [parsed.config.digest, ...parsed.layers.map((l) => l.digest)],
      `${repo.transport.endpoint.domain}/${repo.path}`,
    );
    const upToDate = downloaded.count === 0 && before?.id === image.id;
    return { reference: tagged, digest: top.digest, image, upToDate };
  }

  private async allStored(digests: readonly string[]): Promise<boolean> {
    for (const d of digests) if (!(await this.content.has(d))) return false;
    return true;
  }

  /** HEAD then GET the reference, trying docker.io's mirrors first. */
  private async resolve(
    ref: Reference,
    reference: string,
    signal?: AbortSignal,
  ): Promise<{ repo: RemoteRepository; top: FetchedManifest }> {
    const transports = this.client.pullTransports(ref.domain);
    let lastErr: unknown;
    for (const [i, t] of transports.entries()) {
      const repo = this.client.repository(ref, "pull", t);
      try {
        const head = await repo.headManifest(reference, signal);
        const digest = isDigest(reference) ? reference : head?.digest;
        const top = await this.manifestBytes(repo, digest ?? reference, signal);
        return { repo, top };
      } catch (err) {
        signal?.throwIfAborted();
        lastErr = err;
        const last = i === transports.length - 1;
        if (last || !(isErrorCode(err, "NOT_FOUND") || isErrorCode(err, "UNAVAILABLE"))) break;
      }
    }
    throw translate(lastErr, ref);
  }

  /** A manifest by digest from the content store when it is there, else from the registry. */
  private async manifestBytes(
    repo: RemoteRepository,
    reference: string,
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    if (isDigest(reference) && (await this.content.has(reference))) {
      try {
        const bytes = await this.content.readVerified(reference);
        const json = JSON.parse(bytes.toString("utf8")) as {
          mediaType?: string;
          manifests?: unknown;
        };
        const mediaType =
          json.mediaType ?? (json.manifests ? MediaTypes.OciIndex : MediaTypes.OciManifest);
        return { bytes, digest: reference, mediaType };
      } catch {
        // damaged local copy: fetch it again
      }
    }
    return repo.getManifest(reference, signal);
  }

  /** The config blob, checked: from the store when it is there, else fetched (not stored). */
  private async configBytes(
    repo: RemoteRepository,
    desc: Descriptor,
    signal?: AbortSignal,
  ): Promise<{ bytes: Buffer; config: ImageConfig }> {
    const what = `image config ${desc.digest}`;
    if (await this.content.has(desc.digest)) {
      const local = await this.content.readVerified(desc.digest).catch(() => undefined);
      if (local) return { bytes: local, config: parseImageConfig(local, what) };
    }
    if (desc.size > MAX_CONFIG_BYTES) {
      throw new InvalidArgumentError(
        `${what}: ${desc.size} bytes is larger than the ${MAX_CONFIG_BYTES} bytes a config may have`,
      );
    }
    const bytes = await repo.getBlob(desc, signal);
    return { bytes, config: parseImageConfig(bytes, what) };
  }

  /**
   * Download the layers not stored yet, at most `maxConcurrentDownloads` at once, with
   * docker's progress messages; `Pull complete` goes out in layer order.
   */
  private async fetchLayers(
    repo: RemoteRepository,
    descs: readonly Descriptor[],
    diffIds: readonly string[],
    opts: PullOptions,
  ): Promise<{ count: number; existing: (PlannedLayer["existing"] | undefined)[] }> {
    const emit = opts.onProgress ?? (() => {});
    const plans: PlannedLayer[] = [];
    for (const [i, desc] of descs.entries()) {
      if (layerCompression(desc.mediaType) === undefined) {
        throw new NotSupportedError(
          `layer ${desc.digest}: unsupported media type "${desc.mediaType}"`,
        );
      }
      const existing = this.images.findLayer(diffIds[i]!);
      plans.push({ desc, diffId: diffIds[i]!, ...(existing ? { existing } : {}) });
    }
    const todo: PlannedLayer[] = [];
    const seen = new Set<string>();
    const downloads: boolean[] = [];
    for (const p of plans) {
      const id = shortDigest(p.desc.digest);
      const dup = seen.has(p.desc.digest);
      seen.add(p.desc.digest);
      downloads.push(false);
      if (dup) continue;
      if (p.existing || (await this.content.has(p.desc.digest))) {
        emit({ id, status: "Already exists" });
        continue;
      }
      downloads[downloads.length - 1] = true;
      todo.push(p);
      emit({ id, status: "Pulling fs layer" });
    }
    const limit = Math.max(1, opts.maxConcurrentDownloads ?? 3);
    for (const p of todo.slice(limit)) emit({ id: shortDigest(p.desc.digest), status: "Waiting" });

    // Abort the other downloads as soon as one fails (and on the caller's abort).
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let reported = 0;
    const completed = new Set<string>();
    const reportInOrder = () => {
      for (; reported < plans.length; reported++) {
        if (!downloads[reported]) continue;
        const digest = plans[reported]!.desc.digest;
        if (!completed.has(digest)) break;
        emit({ id: shortDigest(digest), status: "Pull complete" });
      }
    };
    try {
      await mapLimit(todo, limit, async (p) => {
        const id = shortDigest(p.desc.digest);
        try {
          await downloadBlob(repo, this.content, p.desc, {
            signal: ctl.signal,
            onProgress: (n) => {
              if (n === p.desc.size) emit({ id, status: "Verifying Checksum" });
              else emit({ id, status: "Downloading", current: n, total: p.desc.size });
            },
            onRetry: (_attempt, seconds) =>
              emit({ id, status: `Retrying in ${seconds} second${seconds === 1 ? "" : "s"}` }),
          });
        } catch (err) {
          ctl.abort(err);
          if (
            isErrorCode(err, "INVALID_ARGUMENT") &&
            /digest mismatch/.test((err as Error).message)
          ) {
            throw new InvalidArgumentError(
              `filesystem layer verification failed for digest ${p.desc.digest}`,
              {
                cause: err,
              },
            );
          }
          throw err;
        }
        if (p.desc.size === 0) emit({ id, status: "Verifying Checksum" });
        emit({ id, status: "Download complete" });
        completed.add(p.desc.digest);
        reportInOrder();
      });
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
    opts.signal?.throwIfAborted();
    reportInOrder();
    return { count: todo.length, existing: plans.map((p) => p.existing) };
  }
}

function isIndex(m: FetchedManifest): boolean {
  return m.mediaType === MediaTypes.OciIndex || m.mediaType === MediaTypes.DockerManifestList;
}

/** docker's wording for a reference the registry does not have or will not give. */
function translate(err: unknown, ref: Reference): unknown {
  const info = registryErrorInfo(err);
  const message = (err as Error)?.message ?? String(err);
  if (isErrorCode(err, "NOT_FOUND") && info) {
    return new NotFoundError(`manifest for ${familiarString(ref)} not found: ${message}`, {
      cause: err,
    });
  }
  if (isErrorCode(err, "FAILED_PRECONDITION") && info) {
    return new FailedPreconditionError(
      `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${message}`,
      { cause: err },
    );
  }
  return err;
}
