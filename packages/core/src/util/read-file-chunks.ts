import * as fs from "node:fs";

/** Options of {@link readFileChunks}. */
export interface ReadFileChunksOptions {
  /** Size of each of the two buffers chunks are read into; default 256 KiB. */
  chunkSize?: number;
}

function readInto(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * The bytes of the open file `fd` from its current offset to its end, read into TWO
 * buffers in turn: a chunk is valid only until the next one is asked for. While the
 * consumer works on one chunk, the next is read into the other buffer on libuv's thread
 * pool. The file is not closed; when the consumer stops early, the read in flight is waited
 * for before the generator returns (so the caller may close `fd` then).
 *
 * This is the fast way to stream a stored blob through a consumer that is done with each
 * chunk before it asks for the next (core's tar reader is; zlib and child pipes are not).
 * Measured on a 20 × 16 MiB layer applied beside `tar -x` (medians of 15 rounds on a
 * loaded 2-core machine): a read stream's fresh 64 KiB buffers cost page faults and
 * garbage collection on a quiet machine (0.44× of `tar -x` there, 0.95× with reused
 * buffers), and synchronous reads into one buffer lose the overlap of reading with
 * writing on a busy one (1.22× against 1.85–1.93× for these two buffers).
 */
export async function* readFileChunks(
  fd: number,
  opts: ReadFileChunksOptions = {},
): AsyncGenerator<Buffer> {
  const size = opts.chunkSize ?? 256 << 10;
  const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  let pending: Promise<number> | undefined = readInto(fd, bufs[0]);
  try {
    for (let i = 0; ; i++) {
      const n: number = await pending;
      pending = undefined;
      if (n === 0) return;
      const cur = bufs[i % 2]!;
      // The other buffer held the chunk before this one, which the consumer is done with.
      pending = readInto(fd, bufs[(i + 1) % 2]!);
      yield n === size ? cur : cur.subarray(0, n);
    }
  } finally {
    await pending?.catch(() => {});
  }
}
