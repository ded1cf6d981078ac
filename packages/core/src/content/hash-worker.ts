/**
 * The worker thread behind {@link HashPipe}: runs one {@link HashJob} at a time, hashing
 * (and writing) the ring's slots in order until the producer closes it, then answers with
 * the digest. It blocks on `Atomics.wait` between slots, which is what a worker may do; it
 * never touches anything but the job's memory and file descriptor.
 */
import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { writeAllSync } from "../util/write-all.js";
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

function run(job: HashJob): HashJobResult {
  const control = new Int32Array(job.control);
  const data = Buffer.from(job.data);
  const hash = createHash("sha256");
  let failure: HashJobResult | undefined;
  let tail = 0;
  let bytes = 0;
  for (;;) {
    const signal = Atomics.load(control, SIGNAL);
    if (tail === Atomics.load(control, HEAD)) {
      if (Atomics.load(control, CLOSED) !== 0) break;
      Atomics.wait(control, SIGNAL, signal);
      continue;
    }
    const slot = tail % job.slots;
    const start = slot * job.slotSize;
    const view = data.subarray(start, start + (control[LENGTHS + slot] ?? 0));
    if (failure === undefined && Atomics.load(control, CLOSED) !== 2) {
      try {
        hash.update(view);
        if (job.fd !== undefined) writeAllSync(job.fd, view, bytes);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        failure = { ok: false, message: e.message, ...(e.code ? { code: e.code } : {}) };
        Atomics.store(control, FAILED, 1);
      }
    }
    bytes += view.length;
    tail++;
    Atomics.store(control, TAIL, tail);
    Atomics.notify(control, TAIL);
  }
  return failure ?? { ok: true, digest: hash.digest("hex"), bytes };
}

parentPort?.on("message", (job: HashJob) => {
  parentPort?.postMessage(run(job));
});
