import * as fs from "node:fs";
import type { ContentStore } from "../content/content-store.js";
import { InvalidArgumentError } from "../errors.js";
import { hostArchitecture } from "../image/image-importer.js";
import type { ImageStore, NewImage } from "../image/image-store.js";
import { layerCompression, MediaTypes } from "../image/media-types.js";
import { familiarString, withDefaultTag } from "../image/reference.js";
import type { MetadataStore } from "../metadata/metadata-store.js";
import { type PlannedImage, type PlatformWanted, planImages } from "./archive-catalog.js";
import { decompressArchive } from "./archive-decompress.js";
import { type ArchiveFile, type LoadProgress, spoolArchive } from "./archive-spool.js";
import { type LayerFacts, LayerProbe, notALayer, probeBuffer } from "./layer-probe.js";

/** Options of {@link loadImageArchive}. */
export interface LoadArchiveOptions {
  signal?: AbortSignal;
  /** Called as large files (layers) stream in. */
  onProgress?: (p: LoadProgress) => void;
  /** Platform to pick from image indexes; default this machine's (`linux/<arch>`). */
  platform?: PlatformWanted;
}

/** One image a load recorded. */
export interface LoadedImage {
  /** Image ID (`sha256:` of the config). */
  id: string;
  /** Tags now pointing at it, familiar form (`busybox:latest`). */
  tags: string[];
  /** Tags that pointed at another image before, with that image's ID (docker reports them). */
  moved: { tag: string; previousId: string }[];
}

/** An image recorded by this load, and whether the load created it (for rollback). */
type Added = LoadedImage & { created: boolean };

const LAYER_TYPES: Record<LayerFacts["compression"], string> = {
  none: MediaTypes.DockerLayer,
  gzip: MediaTypes.DockerLayerGzip,
  zstd: MediaTypes.DockerLayerZstd,
};

/**
 * Load an image archive (docker 25+, docker 1.10–24, skopeo `docker-archive:`, or an OCI
 * image layout; plain or compressed with gzip, zstd, bzip2 or xz) into the store, in three steps:
 *
 * 1. stream: every file is spooled into the content store's ingest (or held in memory when
 *    small) and checked against its name, in whatever order the archive has them;
 * 2. check: the images' metadata are parsed, and every layer's diff ID is compared with the
 *    config's `rootfs.diff_ids`;
 * 3. publish: the layer blobs are committed (those the store has are not written again),
 *    then each image is recorded with its tags.
 *
 * Nothing becomes visible before step 3. When step 3 fails, the blobs and images it created
 * are removed again, so a failed load leaves the store as it was.
 * @throws InvalidArgumentError for a malformed, truncated, corrupt or hostile archive.
 */
export async function loadImageArchive(
  images: ImageStore,
  meta: MetadataStore,
  source: AsyncIterable<Uint8Array>,
  opts: LoadArchiveOptions = {},
): Promise<LoadedImage[]> {
  const content = images.content;
  const platform = opts.platform ?? { os: "linux", architecture: hostArchitecture() };
  const archive = await spoolArchive(content, await decompressArchive(source), opts);
  const created: string[] = [];
  const added: Added[] = [];
  try {
    const plans = await planImages(archive, content, platform);
    const records: { plan: PlannedImage; image: NewImage }[] = [];
    for (const plan of plans) {
      records.push({ plan, image: await checkImage(plan, content, meta) });
    }
    opts.signal?.throwIfAborted();
    const published = new Set<string>();
    for (const { plan } of records) {
      for (const file of [...plan.layers.map((l) => l.file), ...plan.indexes]) {
        if (published.has(file.digest)) continue;
        published.add(file.digest);
        if (await publish(content, file)) created.push(file.digest);
      }
    }
    for (const { plan, image } of records) {
      const moved: LoadedImage["moved"] = [];
      for (const name of tagNames(plan)) {
        const previous = await images.resolve(name).catch(() => undefined);
        if (previous && previous.id !== plan.id) moved.push({ tag: name, previousId: previous.id });
      }
      const existed = images.allIds().includes(plan.id);
      await images.addImage(image);
      added.push({ id: plan.id, tags: tagNames(plan), moved, created: !existed });
    }
  } catch (err) {
    await rollback(images, meta, created, added).catch(() => {});
    throw err;
  } finally {
    await archive.discard();
  }
  return added.map(({ id, tags, moved }) => ({ id, tags, moved }));
}

/** The plan's tags as docker prints them, each once. */
function tagNames(plan: PlannedImage): string[] {
  return [...new Set(plan.tags.map((t) => familiarString(withDefaultTag(t))))];
}

/** Verify every layer of `plan` against the config's diff IDs and build the image record. */
async function checkImage(
  plan: PlannedImage,
  content: ContentStore,
  meta: MetadataStore,
): Promise<NewImage> {
  const layers: NewImage["layers"] = [];
  for (const [i, l] of plan.layers.entries()) {
    const what = `layer ${i + 1} (${l.file.path}) of image ${plan.id}`;
    const facts = await layerFacts(l.file, l.diffId, content, meta, what);
    if (facts.diffId !== l.diffId) {
      throw new InvalidArgumentError(
        `invalid diffID for layer ${i}: expected "${l.diffId}", got "${facts.diffId}"`,
      );
    }
    const mediaType = l.mediaType ?? LAYER_TYPES[facts.compression];
    if (layerCompression(mediaType) !== facts.compression) {
      throw new InvalidArgumentError(
        `${what}: media type "${mediaType}" does not match its content (${facts.compression === "none" ? "uncompressed" : facts.compression})`,
      );
    }
    layers.push({
      diffId: l.diffId,
      blob: { mediaType, digest: l.file.digest, size: l.file.size },
      size: facts.contentSize,
    });
  }
  return {
    config: plan.config,
    layers,
    ...(plan.manifest ? { manifest: plan.manifest } : {}),
    tags: plan.tags,
    ...(plan.repoDigests.length > 0 ? { repoDigests: plan.repoDigests } : {}),
    ...(plan.indexes.length > 0 ? { blobs: [...new Set(plan.indexes.map((f) => f.digest))] } : {}),
  };
}

/**
 * What a layer file is: from the streaming probe, from what the store already knows of the
 * blob, or by reading it (small files in memory, blobs the store had).
 */
async function layerFacts(
  file: ArchiveFile,
  diffId: string,
  content: ContentStore,
  meta: MetadataStore,
  what: string,
): Promise<LayerFacts> {
  const known = meta.db
    .prepare("SELECT diff_id, blob_media_type, size FROM layers WHERE blob_digest = ? LIMIT 1")
    .get(file.digest) as { diff_id: string; blob_media_type: string; size: number } | undefined;
  if (file.kind === "memory") {
    const r = await probeBuffer(file.data, file.digest);
    if (r instanceof Error) throw notALayer(what, r);
    return known?.diff_id === r.diffId ? { ...r, contentSize: known.size } : r;
  }
  if (file.kind === "spooled" && !file.facts) throw notALayer(what, file.error);
  if (file.facts) {
    const f = file.facts;
    return known?.diff_id === f.diffId ? { ...f, contentSize: known.size } : f;
  }
  // A blob the store already had: trust what it recorded, else read it back.
  const compression = known ? layerCompression(known.blob_media_type) : undefined;
  if (known && compression && known.diff_id === diffId) {
    return { compression, diffId: known.diff_id, contentSize: known.size };
  }
  const stream = await content.open(file.digest);
  try {
    const probe = new LayerProbe();
    for await (const c of stream as AsyncIterable<Buffer>) await probe.push(c);
    const facts = await probe.finish(file.digest);
    if (!facts) throw notALayer(what, probe.error);
    return facts;
  } finally {
    stream.destroy();
  }
}

/**
 * Make an archive file a visible blob. Returns true when this call created it (it was not
 * in the store before), false when the store already had it.
 */
async function publish(content: ContentStore, file: ArchiveFile): Promise<boolean> {
  // Leased first, then looked for: a concurrent rmi cannot take it away in between.
  content.lease(file.digest);
  if (file.kind === "present") return false;
  if (await content.has(file.digest)) {
    if (file.kind === "spooled") await file.writer.abort();
    return false;
  }
  if (file.kind === "spooled") await file.writer.commit();
  else await content.put(file.data, { digest: file.digest, size: file.size });
  return true;
}

/** Undo a failed publish: the images it recorded and the blobs it created that nothing uses. */
async function rollback(
  images: ImageStore,
  meta: MetadataStore,
  created: string[],
  added: Added[],
): Promise<void> {
  for (const img of added.reverse()) {
    if (img.created) await images.remove(img.id, { force: true }).catch(() => {});
    for (const m of img.moved) await images.tag(m.previousId, m.tag).catch(() => {});
  }
  meta.write((db) => {
    const used = db.prepare("SELECT 1 FROM image_blobs WHERE digest = ? LIMIT 1");
    for (const d of created) {
      if (!used.get(d)) fs.rmSync(images.content.blobPath(d), { force: true });
    }
  });
}
