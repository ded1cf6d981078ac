import { createCipheriv, createHash } from "node:crypto";

/**
 * A small seeded pseudo-random number generator (mulberry32): the same seed gives the same
 * workload on every machine and every run, which is what makes two reports comparable.
 */
export class Prng {
  private state: number;

  constructor(seed: number, stream = 0) {
    // Mix the stream id in so that each workload draws from its own sequence and adding a
    // workload never shifts another one's choices.
    this.state =
      (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** `count` distinct items of `items`, in the order drawn (a partial Fisher-Yates shuffle). */
  pick<T>(items: readonly T[], count: number): T[] {
    const a = items.slice();
    const n = Math.min(count, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (a.length - i));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a.slice(0, n);
  }
}

/**
 * Seeded file contents: an AES-128-CTR keystream, one stream per id. Reproducible,
 * incompressible, and produced at GB/s, so that generating the workloads costs little next
 * to what is measured.
 */
export class SeededBytes {
  private readonly key: Buffer;

  constructor(seed: number) {
    this.key = createHash("sha256").update(`strata-bench:${seed}`).digest().subarray(0, 16);
  }

  /** The `size` bytes of stream `id`, produced in chunks of at most `chunk` bytes. */
  *chunks(id: number, size: number, chunk = 1 << 20): Generator<Buffer> {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(id >>> 0, 0);
    iv.writeUInt32BE(Math.floor(id / 2 ** 32), 4);
    const cipher = createCipheriv("aes-128-ctr", this.key, iv);
    for (let done = 0; done < size; done += chunk) {
      yield cipher.update(Buffer.alloc(Math.min(chunk, size - done)));
    }
  }

  /** The first `size` bytes of stream `id` as one buffer. */
  bytes(id: number, size: number): Buffer {
    return Buffer.concat([...this.chunks(id, size, size || 1)]);
  }
}
