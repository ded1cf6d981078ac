import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import {
  CLOSED,
  FAILED,
  type HashJob,
  type HashJobResult,
  HEAD,
  LENGTHS,
  SIGNAL,
  TAIL,
} from "./hash-ring.js";

/** `Atomics.waitAsync` (Node 16+; typed only from lib ES2024, which this build does not use). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/**
 * Blobs and layers of at least this many bytes are worth a worker (when the size is known
 * ahead): below it, the copy into the ring and the hand-over cost more than they save.
 */
export const HASH_PIPE_MIN_BYTES = 4 << 20;

/** Slots in a ring, and their size: 8 MiB of shared memory per worker, reused. */
const SLOTS = 8;
const SLOT_SIZE = 1 << 20;

/**
 * The compiled worker. Both `src/content/` (under vitest) and `dist/content/` sit two
 * levels below the package, so this names the built file from either.
 */
const WORKER_URL = new URL("../../dist/content/hash-worker.js", import.meta.url);

/** A worker with its ring, kept between jobs. */
interface Hand {
  worker: Worker;
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** Settles the job in progress when the worker answers, fails or exits. */
  settle?: (r: HashJobResult) => void;
  dead: boolean;
}

/** Workers, at most one per core, each running one job at a time. */
class HandPool {
  private readonly idle: Hand[] = [];
  private count = 0;

  constructor(private readonly max: number) {}

  take(): Hand | undefined {
    const hand = this.idle.pop() ?? (this.count < this.max ? this.spawn() : undefined);
    hand?.worker.ref();
    return hand;
  }

  /** Start a worker now, when none is idle and one may still start, for a job to come. */
  warm(): void {
    if (this.idle.length === 0 && this.count < this.max) this.idle.push(this.spawn());
  }

  give(hand: Hand): void {
    if (hand.dead) return;
    hand.worker.unref();
    this.idle.push(hand);
  }

  private spawn(): Hand {
    const worker = new Worker(WORKER_URL);
    const hand: Hand = {
      worker,
      control: new SharedArrayBuffer((LENGTHS + SLOTS) * 4),
      data: new SharedArrayBuffer(SLOTS * SLOT_SIZE),
      dead: false,
    };
    this.count++;
    const die = (message: string) => {
      if (hand.dead) return;
      hand.dead = true;
      this.count--;
      const i = this.idle.indexOf(hand);
      if (i >= 0) this.idle.splice(i, 1);
      hand.settle?.({ ok: false, message });
    };
    worker.on("message", (r: HashJobResult) => hand.settle?.(r));
    worker.on("error", (err) => die(`hash worker failed: ${err.message}`));
    worker.on("exit", (code) => die(`hash worker exited with code ${code}`));
    worker.unref();
    return hand;
  }
}

const pool = new HandPool(Math.max(1, availableParallelism()));

/**
 * sha256 on a second thread: bytes written into the pipe are copied into a shared ring,
 * and a worker thread hashes them (and, given a file descriptor, writes them to it with
 * `pwrite` from offset 0) while the caller goes on producing. This is how a blob's
 * bytes cost the producing thread one `memcpy` instead of a hash and a write. On a
 * 370 MB layer commit that took 610 ms down to 520 ms; the root README has the bench
 * figures.
 *
 * A pipe holds one of at most one worker per core; {@link HashPipe.open} returns
 * undefined when all are busy, and the caller hashes on its own thread instead. Workers
 * outlive their jobs, unreferenced, so an idle one never keeps the process alive.
 */
export class HashPipe {
  private readonly control: Int32Array;
  private readonly data: Buffer;
  private readonly result: Promise<HashJobResult>;
  private head = 0;
  /** Bytes in the slot being filled (not yet published). */
  private fill = 0;
  private closed = false;

  private constructor(
    private readonly hand: Hand,
    fd: number | undefined,
  ) {
    this.control = new Int32Array(hand.control);
    this.control.fill(0);
    this.data = Buffer.from(hand.data);
    this.result = new Promise<HashJobResult>((resolve) => {
      hand.settle = (r) => {
        hand.settle = undefined;
        resolve(r);
      };
    });
    const job: HashJob = {
      control: hand.control,
      data: hand.data,
      slots: SLOTS,
      slotSize: SLOT_SIZE,
      ...(fd !== undefined ? { fd } : {}),
    };
    hand.worker.postMessage(job);
  }

  /**
   * A pipe whose worker hashes, and writes to `fd` when given; undefined when every
   * worker is busy.
   */
  static open(fd?: number): HashPipe | undefined {
    const hand = pool.take();
    return hand && new HashPipe(hand, fd);
  }

  /**
   * Start a worker in the background (when none is idle) so that the next {@link open}
   * finds it ready: starting one takes about 25 ms, which a small blob would wait for.
   * Operations that will write layers call this first, so the start overlaps their setup.
   */
  static warm(): void {
    pool.warm();
  }

  /** Copy `chunk` into the ring; waits only while the ring is full. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error("hash pipe: write after close");
    let off = 0;
    while (off < chunk.length) {
      if (this.fill === 0) await this.freeSlot();
      const slot = this.head % SLOTS;
      const n = Math.min(chunk.length - off, SLOT_SIZE - this.fill);
      this.data.set(chunk.subarray(off, off + n), slot * SLOT_SIZE + this.fill);
      this.fill += n;
      off += n;
      if (this.fill === SLOT_SIZE) this.publish();
    }
    if (Atomics.load(this.control, FAILED) !== 0) await this.failed();
  }

  /**
   * Wait until every byte is hashed (and written).
   * @returns the `sha256:` digest and the byte count.
   * @throws the worker's write error, or an Error when the worker died.
   */
  async finish(): Promise<{ digest: string; bytes: number }> {
    if (this.fill > 0) this.publish();
    const r = await this.close(1);
    if (!r.ok) throw jobError(r);
    return { digest: `sha256:${r.digest}`, bytes: r.bytes };
  }

  /** Stop: the worker drops what is left without hashing or writing it. Idempotent. */
  async abort(): Promise<void> {
    if (this.closed) {
      await this.result;
      return;
    }
    await this.close(2);
  }

  private async close(how: 1 | 2): Promise<HashJobResult> {
    this.closed = true;
    Atomics.store(this.control, CLOSED, how);
    this.signal();
    const r = await this.result;
    pool.give(this.hand);
    return r;
  }

  private publish(): void {
    this.control[LENGTHS + (this.head % SLOTS)] = this.fill;
    this.head++;
    this.fill = 0;
    Atomics.store(this.control, HEAD, this.head);
    this.signal();
  }

  private signal(): void {
    Atomics.add(this.control, SIGNAL, 1);
    Atomics.notify(this.control, SIGNAL);
  }

  private async freeSlot(): Promise<void> {
    for (;;) {
      const tail = Atomics.load(this.control, TAIL);
      if (this.head - tail < SLOTS) return;
      if (this.hand.dead) await this.failed();
      const w = waitAsync(this.control, TAIL, tail, 1000);
      if (w.async) await w.value;
    }
  }

  /** The worker failed: close and throw its error. */
  private async failed(): Promise<never> {
    const r = await this.close(2);
    throw jobError(r.ok ? { ok: false, message: "hash worker stopped writing" } : r);
  }
}

function jobError(r: Extract<HashJobResult, { ok: false }>): Error {
  const err: NodeJS.ErrnoException = new Error(r.message);
  if (r.code) err.code = r.code;
  return err;
}
