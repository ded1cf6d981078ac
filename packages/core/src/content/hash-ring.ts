/**
 * The shared-memory ring a {@link HashPipe} hands bytes to its worker through: `slots`
 * buffers of `slotSize` bytes in one SharedArrayBuffer, and an Int32Array of counters that
 * both threads read and write with `Atomics`.
 *
 * The producer (the thread that owns the blob) copies bytes into slot `head % slots`,
 * records the slot's length and bumps `head`; the worker hashes (and writes) slot
 * `tail % slots` and bumps `tail`. `head - tail` is never more than `slots`. `SIGNAL`
 * changes on every publish and on close, so a worker that read it before checking `head`
 * and `CLOSED` cannot sleep through either.
 */

/** Slots published by the producer. */
export const HEAD = 0;
/** Slots finished by the worker. */
export const TAIL = 1;
/** Set by the producer: no more slots will come (1: finish, 2: abort). */
export const CLOSED = 2;
/** Set by the worker when writing failed; it goes on draining slots without writing. */
export const FAILED = 3;
/** Bumped by the producer on every publish and on close; the worker waits on it. */
export const SIGNAL = 4;
/** Lengths of the slots' contents start here, one Int32 per slot. */
export const LENGTHS = 5;

/** What the producer asks its worker to do. */
export interface HashJob {
  /** The counters: `LENGTHS + slots` Int32 cells. */
  control: SharedArrayBuffer;
  /** The slots' bytes: `slots * slotSize`. */
  data: SharedArrayBuffer;
  slots: number;
  slotSize: number;
  /** Write every byte here too, from offset 0, when given. */
  fd?: number;
}

/** What the worker answers when a job is over. */
export type HashJobResult =
  | { ok: true; digest: string; bytes: number }
  | { ok: false; message: string; code?: string };
