import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { assertDigest, isDigest } from "../content/digest.js";
import { InvalidArgumentError } from "../errors.js";
import { parseImageConfig } from "../image/image-documents.js";
import type { ImageConfig, ImageManifest } from "../image/image-types.js";
import { layerCompression, MediaTypes } from "../image/media-types.js";
import type { Reference } from "../image/reference.js";
import {
  ArchiveFiles,
  blobArchivePath,
  type DockerManifestItem,
  MAX_JSON_SIZE,
  type OciIndex,
} from "./archive-format.js";
import { namesOf, repoDigestOf, safeParse } from "./archive-names.js";
import type { ArchiveFile, SpooledArchive } from "./archive-spool.js";

/** One layer of an image to load: the archive file that holds it and what it must be. */
export interface PlannedLayer {
  /** The diff ID the config lists for this position. */
  diffId: string;
  file: ArchiveFile;
  /** Media type from the archive's manifest; absent when strata makes the manifest. */
  mediaType?: string;
}

/** An image found in an archive, ready to be verified and recorded. */
export interface PlannedImage {
  /** Image ID: the digest of the config bytes. */
  id: string;
  config: Buffer;
  /** The archive's manifest bytes for this image, when it has one, and its file. */
  manifest?: Buffer;
  manifestFile?: ArchiveFile;
  layers: PlannedLayer[];
  tags: Reference[];
  /** Registry digests (`name@sha256:…`) the archive's index carries for this image. */
  repoDigests: Reference[];
  /** Index and other manifest blobs those digests name, which the image owns once loaded. */
  indexes: ArchiveFile[];
}

/** A manifest reached from `index.json`, and the index blobs passed on the way. */
interface Resolved {
  bytes: Buffer;
  manifest: ImageManifest;
  digest: string;
  file: ArchiveFile;
  indexes: ArchiveFile[];
}

/** The platform to pick from an image index. */
export interface PlatformWanted {
  os: string;
  architecture: string;
}

const INDEX_TYPES = new Set<string>([MediaTypes.OciIndex, MediaTypes.DockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaTypes.OciManifest, MediaTypes.DockerManifest]);

/**
 * Find the images of a spooled archive: docker's `manifest.json` when present (with the
 * OCI manifests of `index.json` reused byte for byte when docker 25+ wrote them), else the
 * OCI layout's `index.json` (image indexes resolved to `platform`).
 * @throws InvalidArgumentError for malformed metadata, missing files or paths that escape.
 */
export async function planImages(
  archive: SpooledArchive,
  content: ContentStore,
  platform: PlatformWanted,
): Promise<PlannedImage[]> {
  const reader = new MetadataReader(archive, content);
  const manifestFile = archive.lookup(ArchiveFiles.Manifest, "manifest.json");
  const indexFile = archive.lookup(ArchiveFiles.Index, "index.json");
  if (archive.files.size === 0 && archive.links.size === 0) {
    throw new InvalidArgumentError("invalid image archive: it is empty");
  }
  if (!manifestFile && !indexFile) {
    throw new InvalidArgumentError(
      "invalid image archive: it holds neither manifest.json nor index.json (archives of docker before 1.10 are not supported)",
    );
  }
  const plans = new Map<string, PlannedImage>();
  const add = (p: PlannedImage) => {
    const known = plans.get(p.id);
    if (!known) {
      plans.set(p.id, p);
      return;
    }
    known.tags.push(...p.tags);
    known.repoDigests.push(...p.repoDigests);
    known.indexes.push(...p.indexes);
    if (p.manifestFile && p.manifestFile.digest !== known.manifestFile?.digest) {
      known.indexes.push(p.manifestFile);
    }
  };
  if (manifestFile) {
    const items = await reader.json<DockerManifestItem[] | null>(manifestFile, "manifest.json");
    if (items === null) {
      throw new InvalidArgumentError("invalid manifest, manifest cannot be null (but can be [])");
    }
    if (!Array.isArray(items)) throw new InvalidArgumentError("manifest.json: not a JSON array");
    const oci = indexFile ? await reader.manifestsByConfig(indexFile, platform) : new Map();
    for (const item of items) {
      const image = await reader.dockerItem(item, oci.get(configDigestOf(archive, item)));
      add(image);
    }
  } else if (indexFile) {
    const index = await reader.json<OciIndex>(indexFile, "index.json");
    for (const desc of indexManifests(index, "index.json")) {
      const m = await reader.resolveManifest(desc, platform);
      if (!m) continue;
      const image = await reader.ociImage(m, namesOf(desc));
      const digested = repoDigestOf(desc);
      if (digested) {
        image.repoDigests.push(digested);
        image.indexes.push(...m.indexes);
      }
      add(image);
    }
  }
  return [...plans.values()];
}

/** An image as `index.json` describes it. */
interface IndexedImage extends Resolved {
  repoDigests: Reference[];
  owned: ArchiveFile[];
}

/** The config digest a manifest.json entry names (its file's digest), if the file exists. */
function configDigestOf(archive: SpooledArchive, item: DockerManifestItem): string {
  if (typeof item?.Config !== "string") return "";
  try {
    return archive.lookup(item.Config, "manifest.json Config")?.digest ?? "";
  } catch {
    return ""; // reported by dockerItem
  }
}

/** Reads and checks the archive's JSON documents. */
class MetadataReader {
  constructor(
    private readonly archive: SpooledArchive,
    private readonly content: ContentStore,
  ) {}

  /** The bytes of a small file (from memory, or from the store when it was already there). */
  async bytes(file: ArchiveFile, what: string): Promise<Buffer> {
    if (file.kind === "memory") return file.data;
    if (file.kind === "present" && file.size <= MAX_JSON_SIZE) {
      return this.content.readVerified(file.digest);
    }
    throw new InvalidArgumentError(`${what}: too large (at most ${MAX_JSON_SIZE >> 20} MiB)`);
  }

  async json<T>(file: ArchiveFile, what: string): Promise<T> {
    return parseJson<T>(await this.bytes(file, what), what);
  }

  /** The archive file holding blob `desc`, checked against the descriptor's size. */
  blob(desc: Descriptor, what: string): ArchiveFile {
    assertDigest(desc.digest, `${what} digest`);
    const file = this.archive.lookup(blobArchivePath(desc.digest), what);
    if (!file) throw new InvalidArgumentError(`${what} ${desc.digest}: missing from the archive`);
    if (typeof desc.size === "number" && desc.size !== file.size) {
      throw new InvalidArgumentError(
        `${what} ${desc.digest}: size ${file.size} differs from the descriptor's ${desc.size}`,
      );
    }
    return file;
  }

  /**
   * Follow `desc` to an image manifest: itself, or the entry of an index matching
   * `platform`. Returns undefined for descriptors of other kinds (attestations, …).
   */
  async resolveManifest(
    desc: Descriptor,
    platform: PlatformWanted,
    depth = 0,
  ): Promise<Resolved | undefined> {
    if (depth > 4) throw new InvalidArgumentError("index.json: image indexes nested too deep");
    const file = this.blob(desc, "manifest");
    const bytes = await this.bytes(file, `manifest ${desc.digest}`);
    const doc = parseJson<{ mediaType?: string; manifests?: unknown; layers?: unknown }>(
      bytes,
      `manifest ${desc.digest}`,
    );
    if (typeof doc !== "object" || doc === null) {
      throw new InvalidArgumentError(`manifest ${desc.digest}: not a JSON object`);
    }
    const type = doc.mediaType ?? desc.mediaType;
    if (INDEX_TYPES.has(type) || (type === undefined && Array.isArray(doc.manifests))) {
      const entries = indexManifests(doc as OciIndex, `index ${desc.digest}`);
      const match = entries.find(
        (d) => d.platform?.os === platform.os && d.platform?.architecture === platform.architecture,
      );
      if (!match) {
        throw new InvalidArgumentError(
          `no matching manifest for ${platform.os}/${platform.architecture} in the manifest list entries`,
        );
      }
      const inner = await this.resolveManifest(match, platform, depth + 1);
      if (inner) inner.indexes.unshift(file);
      return inner;
    }
    if (!MANIFEST_TYPES.has(type) && !(type === undefined && Array.isArray(doc.layers))) {
      return undefined;
    }
    const manifest = checkManifest(doc, desc.digest);
    return { bytes, manifest, digest: file.digest, file, indexes: [] };
  }

  /**
   * What `index.json` says of each image, by config digest (docker 25+ archives): its
   * original manifest, and the registry digests that name it.
   */
  async manifestsByConfig(
    indexFile: ArchiveFile,
    platform: PlatformWanted,
  ): Promise<Map<string, IndexedImage>> {
    const out = new Map<string, IndexedImage>();
    try {
      const index = await this.json<OciIndex>(indexFile, "index.json");
      for (const desc of indexManifests(index, "index.json")) {
        const m = await this.resolveManifest(desc, platform).catch(() => undefined);
        if (!m) continue;
        const known = out.get(m.manifest.config.digest);
        const entry = known ?? { ...m, repoDigests: [], owned: [] };
        const digested = repoDigestOf(desc);
        if (digested) {
          entry.repoDigests.push(digested);
          entry.owned.push(...m.indexes);
          if (m.digest !== entry.digest) entry.owned.push(m.file);
        }
        if (!known) out.set(m.manifest.config.digest, entry);
      }
    } catch {
      // docker reads manifest.json alone; a broken index.json beside it only costs us the
      // original manifests.
    }
    return out;
  }

  async dockerItem(item: DockerManifestItem, original?: IndexedImage): Promise<PlannedImage> {
    if (typeof item?.Config !== "string" || !Array.isArray(item.Layers)) {
      throw new InvalidArgumentError("manifest.json: an entry lacks Config or Layers");
    }
    const configFile = this.archive.lookup(item.Config, "manifest.json Config");
    if (!configFile) {
      throw new InvalidArgumentError(
        `manifest.json: config "${item.Config}" is not in the archive`,
      );
    }
    const config = await this.bytes(configFile, `config "${item.Config}"`);
    const diffIds = checkConfig(config, item.Config);
    if (diffIds.length !== item.Layers.length) {
      throw new InvalidArgumentError(
        `invalid manifest, layers length mismatch: expected ${item.Layers.length}, got ${diffIds.length}`,
      );
    }
    const files = item.Layers.map((p, i) => {
      if (typeof p !== "string") throw new InvalidArgumentError("manifest.json: bad layer path");
      const file = this.archive.lookup(p, "manifest.json layer");
      if (!file) {
        throw new InvalidArgumentError(
          `manifest.json: layer ${i + 1} "${p}" is not in the archive`,
        );
      }
      return file;
    });
    const id = configFile.digest;
    const usable =
      original &&
      original.manifest.layers.length === files.length &&
      original.manifest.layers.every((l, i) => l.digest === files[i]!.digest);
    const tags = (item.RepoTags ?? []).map((t) => {
      const ref = typeof t === "string" ? safeParse(t) : undefined;
      if (!ref?.tag || ref.digest) throw new InvalidArgumentError(`invalid tag "${String(t)}"`);
      return ref;
    });
    return {
      id,
      config,
      ...(usable ? { manifest: original.bytes, manifestFile: original.file } : {}),
      layers: files.map((file, i) => ({
        diffId: diffIds[i]!,
        file,
        ...(usable ? { mediaType: original.manifest.layers[i]!.mediaType } : {}),
      })),
      tags,
      repoDigests: usable ? original.repoDigests : [],
      indexes: usable ? original.owned : [],
    };
  }

  async ociImage(m: Resolved, tags: Reference[]): Promise<PlannedImage> {
    const { manifest } = m;
    const configFile = this.blob(manifest.config, "config");
    const config = await this.bytes(configFile, `config ${manifest.config.digest}`);
    const diffIds = checkConfig(config, manifest.config.digest);
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArgumentError(
        `invalid manifest, layers length mismatch: expected ${manifest.layers.length}, got ${diffIds.length}`,
      );
    }
    return {
      id: configFile.digest,
      config,
      manifest: m.bytes,
      manifestFile: m.file,
      layers: manifest.layers.map((l, i) => {
        if (layerCompression(l.mediaType) === undefined) {
          throw new InvalidArgumentError(
            `layer ${l.digest}: unsupported media type "${l.mediaType}"`,
          );
        }
        return { diffId: diffIds[i]!, file: this.blob(l, "layer"), mediaType: l.mediaType };
      }),
      tags,
      repoDigests: [],
      indexes: [],
    };
  }
}

function parseJson<T>(data: Buffer, what: string): T {
  try {
    return JSON.parse(data.toString("utf8")) as T;
  } catch (err) {
    throw new InvalidArgumentError(`${what}: invalid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function indexManifests(index: OciIndex, what: string): Descriptor[] {
  if (typeof index !== "object" || index === null || !Array.isArray(index.manifests)) {
    throw new InvalidArgumentError(`${what}: not an image index (no manifests array)`);
  }
  for (const d of index.manifests) {
    if (typeof d !== "object" || d === null || typeof d.digest !== "string") {
      throw new InvalidArgumentError(`${what}: a manifest descriptor lacks a digest`);
    }
  }
  return index.manifests;
}

function checkManifest(doc: unknown, digest: string): ImageManifest {
  const m = doc as ImageManifest;
  if (
    typeof m.config !== "object" ||
    m.config === null ||
    typeof m.config.digest !== "string" ||
    !Array.isArray(m.layers) ||
    m.layers.some((l) => typeof l !== "object" || l === null || typeof l.digest !== "string")
  ) {
    throw new InvalidArgumentError(`manifest ${digest}: not an image manifest`);
  }
  return m;
}

/** Parse a config (fields of the types docker gives them) and trust its `rootfs.diff_ids`. */
function checkConfig(bytes: Buffer, what: string): string[] {
  parseImageConfig(bytes, `config "${what}"`);
  const config = parseJson<ImageConfig>(bytes, `config "${what}"`);
  const ids = config?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.some((d) => typeof d !== "string" || !isDigest(d))) {
    throw new InvalidArgumentError(`config "${what}": rootfs.diff_ids is missing or malformed`);
  }
  return ids;
}
