import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { InvalidArgumentError } from "../errors.js";
import { readTar } from "../util/tar-reader.js";
import { applyConfigChanges, emptyContainerConfig } from "./config-changes.js";
import type { ImageStore } from "./image-store.js";
import type { ImageConfig, ImageRecord, ImportOptions } from "./image-types.js";
import { MediaTypes } from "./media-types.js";
import { parseTagTarget } from "./reference.js";

/** The OCI architecture name of this machine (`amd64`, `arm64`, …). */
export function hostArchitecture(): string {
  const map: Record<string, string> = {
    x64: "amd64",
    ia32: "386",
    arm64: "arm64",
    arm: "arm",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return map[process.arch] ?? process.arch;
}

/** Parse `os/arch[/variant]` as `--platform` takes it. */
export function parsePlatform(p: string): { os: string; architecture: string; variant?: string } {
  const parts = p.split("/");
  if (parts.length < 1 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_.-]+$/i.test(x))) {
    throw new InvalidArgumentError(`invalid platform "${p}": expected os[/arch[/variant]]`);
  }
  const [os, architecture = hostArchitecture(), variant] = parts as [string, string?, string?];
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Bytes that start a gzip, zstd, bzip2 or xz stream. */
function sniffCompression(head: Buffer): "gzip" | "zstd" | "bzip2" | "xz" | "none" {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  if (head.subarray(0, 3).toString("latin1") === "BZh") return "bzip2";
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  return "none";
}

/** Yield `source`'s bytes, decompressed when they start with a gzip header. */
async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    first.push(Buffer.from(r.value));
    have += r.value.length;
  }
  const head = Buffer.concat(first);
  if (head.length === 0) throw new InvalidArgumentError("import: the input is empty");
  const kind = head.length >= 6 ? sniffCompression(head) : "none";
  if (kind === "zstd" || kind === "bzip2" || kind === "xz") {
    throw new InvalidArgumentError(
      `import: ${kind}-compressed input is not supported yet; use a plain or gzip tar`,
    );
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.from(r.value);
  }
  if (kind === "none") {
    yield* rest();
    return;
  }
  const gunzip = Readable.from(rest()).pipe(createGunzip());
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    throw new InvalidArgumentError(
      `import: the gzip stream is corrupt: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Import a root filesystem tarball (plain or gzip) as a one-layer image, as `docker import`
 * does: the uncompressed tar is the layer (its digest the diff ID), checked to be a valid
 * tar while it streams into the content store, then unpacked into the selected driver so
 * that a hostile archive is refused before any image points at it.
 */
export async function importRootfs(
  store: ImageStore,
  source: AsyncIterable<Uint8Array>,
  opts: ImportOptions,
): Promise<ImageRecord> {
  const tags = opts.reference ? [parseTagTarget(opts.reference)] : [];
  const platform = parsePlatform(opts.platform ?? `linux/${hostArchitecture()}`);
  const containerConfig = applyConfigChanges(emptyContainerConfig(), opts.changes ?? []);

  const writer = await store.content.writer();
  let size = 0;
  let entries = 0;
  let blob: { digest: string; size: number };
  // Every byte goes to the content store as the tar reader pulls it, so the blob is the
  // input exactly (trailing padding included) and is never read twice.
  const input = (async function* () {
    for await (const chunk of decompressed(source)) {
      opts.signal?.throwIfAborted();
      await writer.write(chunk);
      yield chunk;
    }
  })();
  try {
    try {
      for await (const entry of readTar(input)) {
        entries++;
        const h = entry.header;
        if (h.type === "file") size += h.size;
        else if (h.type === "symlink") size += (h.linkname ?? "").length;
      }
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      throw new InvalidArgumentError(`import: not a valid tar archive: ${err.message}`, {
        cause: err,
      });
    }
    for (let r = await input.next(); !r.done; r = await input.next()); // bytes after the end marker
    if (entries === 0) throw new InvalidArgumentError("import: the archive holds no files");
    blob = await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }

  const layerBlob = { mediaType: MediaTypes.DockerLayer, digest: blob.digest, size: blob.size };
  const created = new Date().toISOString();
  const comment = opts.message || `Imported from ${opts.sourceName}`;
  const config: ImageConfig = {
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    comment,
    config: containerConfig,
    created,
    history: [{ created, comment }],
    os: platform.os,
    rootfs: { type: "layers", diff_ids: [blob.digest] },
  };
  const layer = { diffId: blob.digest, chainId: blob.digest, blob: layerBlob, size };
  try {
    await store.unpacker.unpack([layer], opts.signal);
  } catch (err) {
    if (!(await isReferenced(store, blob.digest))) await store.content.delete(blob.digest);
    throw err;
  }
  return store.addImage({
    config: Buffer.from(JSON.stringify(config)),
    layers: [{ diffId: blob.digest, blob: layerBlob, size }],
    tags,
  });
}

async function isReferenced(store: ImageStore, digest: string): Promise<boolean> {
  for (const img of await store.list().catch(() => [])) {
    if (img.layers.some((l) => l.blob.digest === digest)) return true;
  }
  return false;
}
