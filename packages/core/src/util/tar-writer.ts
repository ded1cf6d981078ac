import type { ByteSink } from "./byte-sink.js";
import { BLOCK, encodeTarHeader, padding, type TarHeader } from "./tar-header.js";

const CHUNK = 1 << 20;

/**
 * Writes a tar stream into a {@link ByteSink}, gathering headers and small bodies into
 * 1 MiB chunks so the sink sees few, large writes. One sink write is in flight at a time
 * while the next chunk fills, so reading files and writing the blob overlap. Large body
 * chunks are handed to the sink as they are: the caller must not modify a buffer after
 * passing it in.
 */
export class TarWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private inflight: Promise<void> = Promise.resolve();
  private bytes = 0;
  private bodyLeft = 0;
  private bodySize = 0;

  constructor(private readonly sink: ByteSink) {}

  /** Bytes of tar produced so far. */
  get size(): number {
    return this.bytes;
  }

  /** Write an entry whose body is all in `body` (or that has none). */
  async entry(h: TarHeader, body?: Uint8Array): Promise<void> {
    await this.begin(h);
    if (body && body.length > 0) await this.body(body);
    await this.end();
  }

  /** Start an entry; its `h.size` body bytes follow through {@link body}, then {@link end}. */
  async begin(h: TarHeader): Promise<void> {
    if (this.bodyLeft !== 0) throw new Error("tar writer: previous entry's body is incomplete");
    await this.put(encodeTarHeader(h));
    this.bodyLeft = h.size;
    this.bodySize = h.size;
  }

  /** Append body bytes of the current entry. */
  async body(chunk: Uint8Array): Promise<void> {
    if (chunk.length > this.bodyLeft)
      throw new Error("tar writer: body longer than its header says");
    this.bodyLeft -= chunk.length;
    await this.put(chunk);
  }

  /** Finish the current entry (pads its body to a block). */
  async end(): Promise<void> {
    if (this.bodyLeft !== 0) throw new Error("tar writer: body shorter than its header says");
    const pad = padding(this.bodySize);
    if (pad) await this.put(Buffer.alloc(pad));
    this.bodySize = 0;
  }

  /** Write the end-of-archive marker (two zero blocks) and flush everything. */
  async finish(): Promise<void> {
    await this.put(Buffer.alloc(2 * BLOCK));
    await this.flush();
    await this.inflight;
  }

  private async put(data: Uint8Array): Promise<void> {
    this.bytes += data.length;
    if (data.length >= CHUNK / 2) {
      // Large pieces go straight through, after what is already buffered.
      await this.flush();
      await this.send(data);
      return;
    }
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, CHUNK - this.pos);
      this.buf.set(data.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
      if (this.pos === CHUNK) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.pos === 0) return;
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    await this.send(out);
  }

  /** Hand `data` to the sink after the previous write finished; don't wait for this one. */
  private async send(data: Uint8Array): Promise<void> {
    await this.inflight;
    const p = this.sink.write(data);
    p.catch(() => {}); // observed by the next send or finish
    this.inflight = p;
  }
}
