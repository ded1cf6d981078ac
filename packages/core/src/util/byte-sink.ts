import { createHash } from "node:crypto";
import { once } from "node:events";
import { createGzip, type ZlibOptions } from "node:zlib";

/**
 * Where a byte stream goes, one chunk at a time; `ContentWriter` is one. The caller waits
 * for each `write` before the next one and never touches a chunk after handing it over.
 */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** A {@link ByteSink} that must be closed to flush what it still holds. */
export interface ClosableSink extends ByteSink {
  /** Flush everything into the inner sink; no writes after this. */
  close(): Promise<void>;
}

/** A pass-through {@link ByteSink} that computes the sha256 and size of what goes through. */
export class HashingSink implements ByteSink {
  private readonly hash = createHash("sha256");
  private bytes = 0;

  constructor(private readonly inner: ByteSink) {}

  /** Bytes seen so far. */
  get size(): number {
    return this.bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    await this.inner.write(chunk);
  }

  /** `sha256:<hex>` of everything written; call once, after the last write. */
  digest(): string {
    return `sha256:${this.hash.digest("hex")}`;
  }
}

/**
 * A sink that gzips what it is given into `inner` (zlib, with backpressure: a write waits
 * while the compressor's output is not yet taken by `inner`).
 */
export function createGzipSink(inner: ByteSink, opts: ZlibOptions = {}): ClosableSink {
  const gz = createGzip(opts);
  let failed: unknown;
  const pump = (async () => {
    for await (const chunk of gz) await inner.write(chunk as Buffer);
  })();
  pump.catch((err) => {
    failed = err;
    gz.destroy();
  });
  return {
    async write(chunk) {
      if (failed) throw failed;
      if (!gz.write(chunk)) {
        await Promise.race([once(gz, "drain"), pump]);
        if (failed) throw failed;
      }
    },
    async close() {
      if (failed) throw failed;
      gz.end();
      await pump;
    },
  };
}
