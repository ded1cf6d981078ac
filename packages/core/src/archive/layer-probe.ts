import { createHash } from "node:crypto";
import { decompressLayer } from "../diff/layer-compression.js";
import { InvalidArgumentError } from "../errors.js";
import type { LayerCompression } from "../image/media-types.js";
import { readTar } from "../util/tar-reader.js";

/** What a probe learnt of a file that may be a layer. */
export interface LayerFacts {
  /** Compression judged from the first bytes (gzip and zstd magic numbers). */
  compression: LayerCompression;
  /** Digest of the uncompressed bytes (the layer's diff ID when it is a layer). */
  diffId: string;
  /** Bytes of file content the layer adds: regular files' sizes plus symlink targets' lengths. */
  contentSize: number;
}

/** The compression a blob's first bytes announce. */
export function sniffCompression(head: Uint8Array): LayerCompression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/**
 * A bounded push-to-pull channel: the producer awaits `push` (backpressure), a consumer
 * iterates. When the consumer stops early, later pushes are dropped instead of blocking.
 */
class Channel implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private space: (() => void) | undefined;

  async push(chunk: Uint8Array): Promise<void> {
    if (this.closed) return;
    this.queue.push(chunk);
    this.notify();
    while (this.queue.length > 2 && !this.closed) {
      await new Promise<void>((r) => {
        this.space = r;
      });
    }
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The consumer is gone: drop what is queued and whatever comes. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.release();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private release(): void {
    const s = this.space;
    this.space = undefined;
    s?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next) {
          this.release();
          yield next;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((r) => {
          this.wake = r;
        });
      }
    } finally {
      this.close();
    }
  }
}

/**
 * Learns, while a file streams past, what it is as a layer: its compression, its diff ID
 * (hashing the decompressed stream; a plain tar's diff ID is its own digest, passed to
 * {@link LayerProbe.finish}) and its content size (parsing the tar headers). A file that
 * turns out not to be a tar keeps the error, reported only if the file is used as a layer.
 */
export class LayerProbe {
  private channel: Channel | undefined;
  private done: Promise<{ diffId?: string; contentSize: number }> | undefined;
  private compression: LayerCompression = "none";
  private failure: Error | undefined;

  /** Feed the next chunk of the file (in order). */
  async push(chunk: Uint8Array): Promise<void> {
    if (!this.channel) this.start(chunk);
    await this.channel!.push(chunk);
  }

  private start(head: Uint8Array): void {
    this.compression = sniffCompression(head);
    const channel = new Channel();
    this.channel = channel;
    const compression = this.compression;
    this.done = (async () => {
      let hash: ReturnType<typeof createHash> | undefined;
      let source: AsyncIterable<Uint8Array> = channel;
      if (compression !== "none") {
        const inner = await decompressLayer(channel, compression);
        const h = createHash("sha256");
        hash = h;
        source = (async function* () {
          for await (const c of inner) {
            h.update(c);
            yield c;
          }
        })();
      }
      return {
        contentSize: await tarContentSize(source),
        diffId: hash && `sha256:${hash.digest("hex")}`,
      };
    })();
    this.done.then(
      () => channel.close(),
      () => channel.close(),
    );
  }

  /**
   * The facts, once the whole file was pushed. `rawDigest` is the file's own digest.
   * @returns undefined when the file is not a (possibly compressed) tar.
   */
  async finish(rawDigest: string): Promise<LayerFacts | undefined> {
    if (!this.channel) this.start(new Uint8Array(0));
    this.channel!.end();
    try {
      const r = await this.done!;
      return {
        compression: this.compression,
        diffId: r.diffId ?? rawDigest,
        contentSize: r.contentSize,
      };
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      return undefined;
    }
  }

  /** Why the file is not a layer, after {@link finish} returned undefined. */
  get error(): Error | undefined {
    return this.failure;
  }
}

/** Learn the layer facts of bytes held in memory (small layers). */
export async function probeBuffer(data: Buffer, rawDigest: string): Promise<LayerFacts | Error> {
  const probe = new LayerProbe();
  if (data.length > 0) await probe.push(data);
  return (await probe.finish(rawDigest)) ?? probe.error ?? new Error("not a tar archive");
}

/** Sum of regular files' sizes and symlink targets' lengths (docker's layer size), as import counts. */
async function tarContentSize(source: AsyncIterable<Uint8Array>): Promise<number> {
  let size = 0;
  for await (const entry of readTar(source)) {
    if (entry.header.type === "file") size += entry.header.size;
    else if (entry.header.type === "symlink") size += (entry.header.linkname ?? "").length;
  }
  return size;
}

/** The error for a file used as a layer that is not one. */
export function notALayer(what: string, cause: Error | undefined): InvalidArgumentError {
  return new InvalidArgumentError(
    `${what}: not a valid layer tar${cause ? `: ${cause.message}` : ""}`,
    { cause },
  );
}
