import * as fs from "node:fs";

/** Options of {@link readFileChunks}. */
export interface ReadFileChunksOptions {
  /** Size of the one buffer every chunk is read into; default 1 MiB. */
  chunkSize?: number;
  /** Let the event loop run after this many bytes of reading; default 64 MiB. */
  breatheEvery?: number;
}

/**
 * The bytes of the open file `fd` from its current offset to its end, read with
 * synchronous `read(2)` calls into ONE reused buffer: a chunk is valid only until the next
 * one is asked for. The file is not closed.
 *
 * This is the fast way to stream a stored blob through a consumer that is done with each
 * chunk before it asks for the next (core's tar reader is; zlib and child pipes are not):
 * a fresh buffer per chunk, as `fs.createReadStream` allocates, costs page faults and
 * garbage collection on every megabyte, and a thread-pool round trip per 64 KiB; on large
 * layers that doubled the time of an apply (measured: 20 × 16 MiB, 0.44× of `tar -x`
 * with a read stream, 0.85× with this).
 */
export async function* readFileChunks(
  fd: number,
  opts: ReadFileChunksOptions = {},
): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(opts.chunkSize ?? 1 << 20);
  const breatheEvery = opts.breatheEvery ?? 64 << 20;
  let sinceBreath = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return;
    yield n === buf.length ? buf : buf.subarray(0, n);
    sinceBreath += n;
    if (sinceBreath >= breatheEvery) {
      sinceBreath = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
