import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { availableParallelism } from "node:os";
import * as zlib from "node:zlib";
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { MediaTypes } from "../image/media-types.js";
import { findExecutable } from "../util/find-executable.js";

/** Uncompressed bytes per independently compressed block (pigz uses 128 KiB; larger is faster here). */
const BLOCK = 1024 * 1024;
/** Deflate's window: each block is primed with the 32 KiB before it, as pigz does. */
const WINDOW = 32 * 1024;
/** zlib level: fast, and within a few percent of level 6's size on layer tars. */
export const PUSH_GZIP_LEVEL = 3;

/** Options of {@link gzipLayer}. */
export interface GzipLayerOptions {
  /** Called with the uncompressed bytes consumed so far. */
  onProgress?: (done: number) => void;
  signal?: AbortSignal;
  /** Blocks compressed at once; default the number of CPUs + 1. */
  parallelism?: number;
}

/**
 * Compress the stored uncompressed layer `layer` (whose digest is its diff ID) into a gzip
 * blob in the content store, on every core: the tar is cut into 1 MiB blocks, each block is
 * deflated on libuv's thread pool with the previous 32 KiB as its dictionary and ended on a
 * byte boundary (`Z_SYNC_FLUSH`), and the blocks are joined into one gzip member with the
 * CRC-32 and size trailer — pigz's scheme, readable by any gzip reader. The output depends
 * only on the input (fixed block size and level), so the same layer always compresses to
 * the same digest. The source is checked against its digest while it is read.
 *
 * @returns the gzip blob's descriptor (OCI gzip media type).
 * @throws InvalidArgumentError when the stored layer no longer matches its digest.
 */
export async function gzipLayer(
  store: ContentStore,
  layer: Descriptor,
  opts: GzipLayerOptions = {},
): Promise<Descriptor> {
  const writer = await store.writer();
  const parallel = Math.max(1, opts.parallelism ?? availableParallelism() + 1);
  const sourceHash = createHash("sha256");
  let crc = 0;
  let consumed = 0;
  let prevTail: Buffer | undefined;
  const pending: Promise<Buffer>[] = [];
  try {
    // gzip header: magic, deflate, no flags, mtime 0, xfl 0, OS 255 (unknown): reproducible.
    await writer.write(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
    const source = createReadStream(store.blobPath(layer.digest), { highWaterMark: BLOCK });
    let block: Buffer[] = [];
    let blockBytes = 0;
    const submit = (data: Buffer, last: boolean) => {
      const dict = prevTail;
      prevTail =
        data.length >= WINDOW
          ? data.subarray(data.length - WINDOW)
          : Buffer.concat([prevTail ?? Buffer.alloc(0), data]).subarray(-WINDOW);
      pending.push(deflateBlock(data, dict, last));
    };
    const drain = async (keep: number) => {
      while (pending.length > keep) {
        await writer.write(await pending.shift()!);
      }
    };
    for await (const chunk of source as AsyncIterable<Buffer>) {
      opts.signal?.throwIfAborted();
      sourceHash.update(chunk);
      crc = zlib.crc32(chunk, crc);
      consumed += chunk.length;
      block.push(chunk);
      blockBytes += chunk.length;
      while (blockBytes >= BLOCK) {
        const all = Buffer.concat(block, blockBytes);
        submit(all.subarray(0, BLOCK), false);
        const rest = all.subarray(BLOCK);
        block = rest.length ? [rest] : [];
        blockBytes = rest.length;
        await drain(parallel);
      }
      opts.onProgress?.(consumed);
    }
    submit(Buffer.concat(block, blockBytes), true);
    await drain(0);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(consumed % 2 ** 32, 4);
    await writer.write(trailer);
    const actual = `sha256:${sourceHash.digest("hex")}`;
    if (actual !== layer.digest || consumed !== layer.size) {
      throw new InvalidArgumentError(
        `layer ${layer.digest}: stored blob hashes to ${actual} (${consumed} bytes); it is damaged`,
      );
    }
    const info = await writer.commit();
    return { mediaType: MediaTypes.OciLayerGzip, ...info };
  } catch (err) {
    await Promise.allSettled(pending);
    await writer.abort();
    throw err;
  }
}

function deflateBlock(
  data: Buffer,
  dictionary: Buffer | undefined,
  last: boolean,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.deflateRaw(
      data,
      {
        level: PUSH_GZIP_LEVEL,
        memLevel: 9,
        ...(dictionary ? { dictionary } : {}),
        finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      },
      (err, out) => (err ? reject(err) : resolve(out)),
    );
  });
}

/** zstd level for pushes: its default, fast and smaller than gzip. */
export const PUSH_ZSTD_LEVEL = 3;

/**
 * Compress the stored uncompressed layer `layer` into a zstd blob in the content store
 * with the `zstd` binary on every core (`-T0`; its multi-threaded output does not depend on
 * the number of threads, so the same layer gives the same digest). The source is checked
 * against its digest while it is read.
 * @returns the zstd blob's descriptor (OCI zstd media type).
 * @throws NotSupportedError when there is no `zstd` on `$PATH`.
 * @throws InvalidArgumentError when the stored layer no longer matches its digest.
 */
export async function zstdLayer(
  store: ContentStore,
  layer: Descriptor,
  opts: GzipLayerOptions = {},
): Promise<Descriptor> {
  const zstd = await findExecutable("zstd");
  if (!zstd) throw new NotSupportedError("layer compression zstd: no zstd binary on PATH");
  const writer = await store.writer();
  const child = spawn(zstd, ["-q", "-c", `-${PUSH_ZSTD_LEVEL}`, "-T0", "--no-progress"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  exited.catch(() => {});
  const sourceHash = createHash("sha256");
  let consumed = 0;
  const feed = (async () => {
    for await (const chunk of createReadStream(store.blobPath(layer.digest), {
      highWaterMark: BLOCK,
    }) as AsyncIterable<Buffer>) {
      opts.signal?.throwIfAborted();
      sourceHash.update(chunk);
      consumed += chunk.length;
      opts.onProgress?.(consumed);
      if (!child.stdin.write(chunk)) await once(child.stdin, "drain");
    }
    child.stdin.end();
  })();
  feed.catch(() => child.kill());
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) await writer.write(chunk);
    await feed;
    const code = await exited;
    if (code !== 0) throw new InvalidArgumentError(`zstd exited with ${code}: ${stderr.trim()}`);
    const actual = `sha256:${sourceHash.digest("hex")}`;
    if (actual !== layer.digest || consumed !== layer.size) {
      throw new InvalidArgumentError(
        `layer ${layer.digest}: stored blob hashes to ${actual} (${consumed} bytes); it is damaged`,
      );
    }
    const info = await writer.commit();
    return { mediaType: MediaTypes.OciLayerZstd, ...info };
  } catch (err) {
    child.kill();
    await writer.abort();
    throw err;
  }
}
