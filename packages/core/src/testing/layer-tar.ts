import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { sha256Digest } from "../content/digest.js";
import { MediaTypes } from "../image/media-types.js";

/** One entry of a hand-made layer tar (see {@link buildLayerTar}). */
export interface LayerTarEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo" | "character-device";
  mode?: number;
  content?: string;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  /** PAX records, e.g. `SCHILY.xattr.user.a`. */
  pax?: Record<string, string>;
}

/** Fixed mtime of hand-made layer entries. */
const LAYER_MTIME = new Date(1_000_000_000 * 1000);

/** Build an uncompressed layer tar from `entries` (mode defaults: 0644 files, 0755 dirs). */
export async function buildLayerTar(entries: readonly LayerTarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? "file";
    const header: Partial<tar.Header> & { name: string } = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: 0,
      gid: 0,
      mtime: LAYER_MTIME,
    };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (e.pax) header.pax = e.pax;
    if (type === "character-device") Object.assign(header, { devmajor: 0, devminor: 0 });
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === "file") pack.entry(header, e.content ?? "", cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Store a layer tar in the content store, gzip-compressed when asked.
 * @returns the blob's descriptor and the uncompressed tar's digest and size (its diff ID).
 */
export async function storeLayer(
  cs: ContentStore,
  tarBytes: Buffer,
  compression: "none" | "gzip" = "none",
): Promise<{ desc: Descriptor; diffId: string; tarSize: number }> {
  const blob = compression === "gzip" ? gzipSync(tarBytes) : tarBytes;
  const info = await cs.put(blob);
  const mediaType = compression === "gzip" ? MediaTypes.OciLayerGzip : MediaTypes.OciLayer;
  return {
    desc: { mediaType, digest: info.digest, size: info.size },
    diffId: sha256Digest(tarBytes),
    tarSize: tarBytes.length,
  };
}

/** A tar header as {@link readLayerTar} reports it. */
export interface LayerTarHeader {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  pax: Record<string, string>;
}

/** The headers of an uncompressed layer blob in the content store, in tar order. */
export async function readLayerTar(cs: ContentStore, digest: string): Promise<LayerTarHeader[]> {
  const extract = tar.extract();
  const out: LayerTarHeader[] = [];
  Readable.from(await cs.open(digest)).pipe(extract);
  for await (const entry of extract) {
    const h = entry.header;
    const header: LayerTarHeader = {
      name: h.name,
      type: h.type ?? "file",
      mode: h.mode ?? 0,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      size: h.size ?? 0,
      pax: (h.pax ?? {}) as Record<string, string>,
    };
    if (h.linkname) header.linkname = h.linkname;
    out.push(header);
    entry.resume();
  }
  return out;
}

/** A tar entry name without leading `./` or `/` and trailing `/`. */
export function cleanTarName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}
