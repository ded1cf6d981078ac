import * as fs from "node:fs/promises";
import type { Descriptor, Platform } from "../content/descriptor.js";
import { sha256Digest } from "../content/digest.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import type { ImageStore } from "../image/image-store.js";
import type { ImageManifest, ImageRecord } from "../image/image-types.js";
import { MediaTypes } from "../image/media-types.js";
import {
  familiarName,
  familiarString,
  fullName,
  parseReference,
  type Reference,
  referenceString,
} from "../image/reference.js";
import type { ByteSink } from "../util/byte-sink.js";
import type { TarHeader } from "../util/tar-header.js";
import { TarWriter } from "../util/tar-writer.js";
import {
  Annotations,
  ArchiveFiles,
  blobArchivePath,
  type DockerManifestItem,
  OCI_LAYOUT_CONTENT,
  type OciIndex,
} from "./archive-format.js";

/** One image to save and the tags to save it under (none when named by ID or digest). */
export interface SaveEntry {
  image: ImageRecord;
  refs: (Reference & { tag: string })[];
}

/** Options of {@link writeImageArchive}. */
export interface WriteArchiveOptions {
  signal?: AbortSignal;
}

const READ_CHUNK = 1 << 20;

/**
 * Resolve `docker save`'s arguments to images and tags, as docker does: `name:tag` saves
 * that tag; a bare repository name saves every tag of it; an ID, ID prefix or
 * `name@digest` saves the image untagged. Images named twice are saved once.
 * @throws NotFoundError `No such image: …` for a name that matches nothing.
 */
export async function resolveSaveNames(store: ImageStore, names: string[]): Promise<SaveEntry[]> {
  const byId = new Map<string, SaveEntry>();
  const add = (image: ImageRecord, ref?: Reference & { tag: string }) => {
    let entry = byId.get(image.id);
    if (!entry) {
      entry = { image, refs: [] };
      byId.set(image.id, entry);
    }
    if (ref && !entry.refs.some((r) => referenceString(r) === referenceString(ref))) {
      entry.refs.push(ref);
    }
  };
  for (const name of names) {
    let ref: Reference | undefined;
    try {
      ref = parseReference(name);
    } catch {
      ref = undefined; // an ID (`sha256:…`, 64 hex) or something resolve will reject
    }
    if (ref?.tag !== undefined && ref.digest === undefined) {
      add(await store.resolve(name), { ...ref, tag: ref.tag });
      continue;
    }
    if (ref && ref.digest === undefined) {
      const repo = fullName(ref);
      let found = false;
      for (const image of await store.list()) {
        for (const t of image.repoTags) {
          const tagged = parseReference(t);
          if (fullName(tagged) === repo && tagged.tag !== undefined) {
            add(image, { ...tagged, tag: tagged.tag });
            found = true;
          }
        }
      }
      if (found) continue;
    }
    add(await store.resolve(name));
  }
  return [...byId.values()];
}

/** A blob the archive holds: its bytes when small (configs, manifests), else read from the store. */
interface ArchiveBlob {
  digest: string;
  size: number;
  data?: Buffer;
}

/**
 * Write `entries` as a docker 25+ image archive into `sink`: an OCI image layout
 * (`oci-layout`, `index.json`, `blobs/sha256/…`) plus docker's `manifest.json` and
 * `repositories`, entries in the order docker writes them (sorted). Layers are written as
 * stored, streamed from the content store.
 * Manifests are written byte for byte as stored, so their digests survive the trip,
 * except the docker schema 2 manifest strata generates itself for a local image (import,
 * commit): it carries no identity, so the archive holds its OCI equivalent, which OCI
 * tools such as umoci require.
 * `sink` must be done with a chunk when its `write` resolves: layer buffers are reused.
 * @throws InvalidArgumentError when a stored blob changed size; NotFoundError when one is
 *   missing. Bytes already written to `sink` are then incomplete.
 */
export async function writeImageArchive(
  store: ImageStore,
  entries: SaveEntry[],
  sink: ByteSink,
  opts: WriteArchiveOptions = {},
): Promise<void> {
  const blobs = new Map<string, ArchiveBlob>();
  const items: DockerManifestItem[] = [];
  const index: OciIndex = { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] };
  const repositories: Record<string, Record<string, string>> = {};

  for (const { image, refs } of entries) {
    opts.signal?.throwIfAborted();
    const stored = await store.content.readVerified(image.manifestDigest);
    const manifest = JSON.parse(stored.toString("utf8")) as ImageManifest;
    if (manifest.config?.digest !== image.id) {
      throw new InvalidArgumentError(
        `image ${image.id}: its stored manifest ${image.manifestDigest} names another config`,
      );
    }
    const config = await store.content.readVerified(image.id);
    // A manifest strata made up is replaced by its OCI twin; one a registry digest names
    // (itself, or through an index) is kept as it is, whatever its form.
    const related = await relatedBlobs(store, image);
    const named = related.some(
      (r) => r.digest === image.manifestDigest || r.lists(image.manifestDigest),
    );
    const generated = !named && isGeneratedSchema2(manifest, stored);
    const out = generated ? toOciManifest(manifest) : stored;
    const outDigest = sha256Digest(out);
    blobs.set(image.id, { digest: image.id, size: config.length, data: config });
    for (const l of manifest.layers) blobs.set(l.digest, { digest: l.digest, size: l.size });
    blobs.set(outDigest, { digest: outDigest, size: out.length, data: out });

    const mediaType = (JSON.parse(out.toString("utf8")) as ImageManifest).mediaType;
    const desc: Descriptor = {
      mediaType: mediaType ?? MediaTypes.OciManifest,
      digest: outDigest,
      size: out.length,
    };
    const platform = configPlatform(image);
    if (platform) desc.platform = platform;
    if (refs.length === 0) index.manifests.push(desc);
    for (const ref of refs) {
      index.manifests.push({
        ...desc,
        annotations: {
          [Annotations.ImageName]: referenceString(ref),
          [Annotations.RefName]: ref.tag,
        },
      });
      const lastDiffId = image.layers[image.layers.length - 1]?.diffId;
      if (lastDiffId) {
        const repo = familiarName(ref);
        repositories[repo] = { ...repositories[repo], [ref.tag]: lastDiffId.slice(7) };
      }
    }
    const layerSet = new Set(manifest.layers.map((l) => l.digest));
    for (const d of repoDigestEntries(related, image, desc, layerSet)) {
      if (d.data)
        blobs.set(d.desc.digest, { digest: d.desc.digest, size: d.data.length, data: d.data });
      index.manifests.push(d.desc);
    }
    items.push({
      Config: blobArchivePath(image.id),
      RepoTags: refs.length > 0 ? refs.map((r) => familiarString(r)) : null,
      Layers: manifest.layers.map((l) => blobArchivePath(l.digest)),
    });
  }

  const tar = new TarWriter(sink);
  await tar.entry(dirHeader("blobs/"));
  await tar.entry(dirHeader("blobs/sha256/"));
  for (const blob of [...blobs.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1))) {
    opts.signal?.throwIfAborted();
    const name = blobArchivePath(blob.digest);
    if (blob.data) await tar.entry(fileHeader(name, blob.data.length), blob.data);
    else await writeStoredBlob(store, blob, name, tar, opts.signal);
  }
  const json = (v: unknown, newline: boolean) =>
    Buffer.from(JSON.stringify(v) + (newline ? "\n" : ""));
  const files: [string, Buffer][] = [
    [ArchiveFiles.Index, json(index, false)],
    [ArchiveFiles.Manifest, json(items, true)],
    [ArchiveFiles.OciLayout, Buffer.from(OCI_LAYOUT_CONTENT)],
  ];
  if (Object.keys(repositories).length > 0) {
    files.push([ArchiveFiles.Repositories, json(repositories, true)]);
  }
  for (const [name, data] of files) await tar.entry(fileHeader(name, data.length), data);
  await tar.finish();
}

/** A blob a registry digest of an image names, as far as the store holds it. */
interface RelatedBlob {
  ref: Reference;
  digest: string;
  data?: Buffer;
  doc?: {
    mediaType?: string;
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
  };
  /** Whether it is an index listing `digest`. */
  lists(digest: string): boolean;
}

/** The blobs the image's registry digests name (parsed when the store has them). */
async function relatedBlobs(store: ImageStore, image: ImageRecord): Promise<RelatedBlob[]> {
  const out: RelatedBlob[] = [];
  for (const name of image.repoDigests) {
    const ref = parseReference(name);
    const digest = ref.digest!;
    const data = await store.content.readVerified(digest).catch(() => undefined);
    let doc: RelatedBlob["doc"];
    try {
      doc = data ? JSON.parse(data.toString("utf8")) : undefined;
    } catch {
      doc = undefined;
    }
    const lists = (d: string) => !!doc?.manifests?.some((m) => m.digest === d);
    out.push({ ref, digest, ...(data ? { data } : {}), ...(doc ? { doc } : {}), lists });
  }
  return out;
}

/**
 * Index entries that carry an image's registry digests, named by containerd's annotation
 * (`docker.io/library/busybox@sha256:…`): the saved manifest itself when the digest is
 * its own, the image index the image was pulled through, or another manifest of the same
 * config and layers (those blobs go along). Digests of anything else cannot travel (a
 * pushed variant with compressed layers would need blobs the archive does not hold).
 */
function repoDigestEntries(
  related: RelatedBlob[],
  image: ImageRecord,
  manifest: Descriptor,
  layers: ReadonlySet<string>,
): { desc: Descriptor; data?: Buffer }[] {
  const out: { desc: Descriptor; data?: Buffer }[] = [];
  for (const r of related) {
    const annotations = { [Annotations.ImageName]: referenceString(r.ref) };
    if (r.digest === manifest.digest) {
      out.push({ desc: { ...manifest, annotations } });
      continue;
    }
    const { doc, data } = r;
    if (!doc || !data) continue;
    const mine = doc.manifests
      ? r.lists(manifest.digest)
      : doc.config?.digest === image.id &&
        Array.isArray(doc.layers) &&
        doc.layers.every((l) => layers.has(l.digest));
    if (!mine) continue;
    const mediaType =
      doc.mediaType ?? (doc.manifests ? MediaTypes.OciIndex : MediaTypes.OciManifest);
    out.push({ desc: { mediaType, digest: r.digest, size: data.length, annotations }, data });
  }
  return out;
}

/**
 * Stream a stored blob into the tar. Its bytes are not hashed again: the content store
 * verified them when they came in, every load verifies them when they arrive, and
 * hashing here would cost save a third of its speed (docker and containerd do not either).
 * A blob whose size changed is refused.
 */
async function writeStoredBlob(
  store: ImageStore,
  blob: ArchiveBlob,
  name: string,
  tar: TarWriter,
  signal?: AbortSignal,
): Promise<void> {
  const info = await store.content.info(blob.digest);
  if (info.size !== blob.size) {
    throw new InvalidArgumentError(
      `blob ${blob.digest}: stored size ${info.size} differs from the manifest's ${blob.size} (the store is damaged)`,
    );
  }
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(store.content.blobPath(blob.digest), "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new NotFoundError(`blob ${blob.digest}: not found`, { cause: err });
    }
    throw err;
  }
  // Two buffers in turn: when `tar.body` returns, the previous chunk's write is done (the
  // tar writer keeps one write in flight), so its buffer can be filled again. Reusing them
  // keeps memory flat instead of leaving a trail of garbage buffers for the GC.
  const buffers = [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)];
  let seen = 0;
  try {
    await tar.begin(fileHeader(name, blob.size));
    for (let turn = 0; seen < blob.size; turn ^= 1) {
      signal?.throwIfAborted();
      const buf = buffers[turn]!;
      const want = Math.min(READ_CHUNK, blob.size - seen);
      const { bytesRead } = await fh.read(buf, 0, want, seen);
      if (bytesRead === 0) break;
      seen += bytesRead;
      await tar.body(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  if (seen !== blob.size) {
    throw new InvalidArgumentError(
      `blob ${blob.digest}: changed size while being saved (the store is damaged)`,
    );
  }
  await tar.end();
}

/**
 * True when `bytes` are exactly the docker schema 2 manifest {@link ImageStore.addImage}
 * makes for an image that came without one: nothing outside strata knows its digest.
 */
function isGeneratedSchema2(m: ImageManifest, bytes: Buffer): boolean {
  if (m.mediaType !== MediaTypes.DockerManifest) return false;
  const regenerated = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.DockerManifest,
    config: { mediaType: MediaTypes.DockerConfig, size: m.config.size, digest: m.config.digest },
    layers: m.layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  });
  return regenerated === bytes.toString("utf8");
}

const OCI_LAYER_TYPES: Record<string, string> = {
  [MediaTypes.DockerLayer]: MediaTypes.OciLayer,
  [MediaTypes.DockerLayerGzip]: MediaTypes.OciLayerGzip,
  [MediaTypes.DockerLayerZstd]: MediaTypes.OciLayerZstd,
};

/** The OCI image manifest for the same config and layer blobs. */
function toOciManifest(m: ImageManifest): Buffer {
  const oci: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: { mediaType: MediaTypes.OciConfig, digest: m.config.digest, size: m.config.size },
    layers: m.layers.map((l) => ({
      mediaType: OCI_LAYER_TYPES[l.mediaType] ?? l.mediaType,
      digest: l.digest,
      size: l.size,
    })),
  };
  return Buffer.from(JSON.stringify(oci));
}

function configPlatform(image: ImageRecord): Platform | undefined {
  const { architecture, os, variant } = image.config;
  if (!architecture || !os) return undefined;
  return variant ? { architecture, os, variant } : { architecture, os };
}

function dirHeader(name: string): TarHeader {
  return { name, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 };
}

function fileHeader(name: string, size: number): TarHeader {
  return { name, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: 0 };
}
