import * as fs from "node:fs/promises";
import type { ContentStore } from "../content/content-store.js";
import type { Descriptor } from "../content/descriptor.js";
import { layerCompression } from "../image/media-types.js";

/**
 * The size recorded for a pulled layer, read from the stored blob without decompressing it
 * (a pull must not be slower than copying the blobs): the uncompressed tar size the blob
 * states — a gzip stream's `ISIZE` trailer (its size modulo 2³², unwrapped when it is
 * impossibly small for the blob), a zstd frame's content size when the frame header has
 * one — else the blob's size. A plain tar's size is its own.
 */
export async function layerSizeHint(store: ContentStore, desc: Descriptor): Promise<number> {
  const compression = layerCompression(desc.mediaType);
  if (compression === "none" || compression === undefined) return desc.size;
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(store.blobPath(desc.digest), "r");
    if (compression === "gzip") {
      if (desc.size < 18) return desc.size;
      const buf = Buffer.alloc(4);
      await fh.read(buf, 0, 4, desc.size - 4);
      // gzip grows incompressible data by a little at most, so an ISIZE well below the
      // blob's size means the tar was 4 GiB or more and ISIZE wrapped.
      let size = buf.readUInt32LE(0);
      while (size * 1.01 + 1024 < desc.size) size += 2 ** 32;
      return size;
    }
    const head = Buffer.alloc(18);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return zstdContentSize(head.subarray(0, bytesRead)) ?? desc.size;
  } catch {
    return desc.size;
  } finally {
    await fh?.close();
  }
}

/** Frame_Content_Size of the first zstd frame, when its header carries one. */
export function zstdContentSize(head: Buffer): number | undefined {
  if (head.length < 6 || head.readUInt32LE(0) !== 0xfd2fb528) return undefined;
  const fhd = head[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  let off = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag]!;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0 || head.length < off + fcsBytes) return undefined;
  switch (fcsBytes) {
    case 1:
      return head[off];
    case 2:
      return head.readUInt16LE(off) + 256;
    case 4:
      return head.readUInt32LE(off);
    default: {
      const v = head.readBigUInt64LE(off);
      off += 8;
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
    }
  }
}
