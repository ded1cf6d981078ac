/**
 * Test hook for crash-safety tests: `STRATA_CRASH_AT=<point>[:<n>]` makes the process kill
 * itself with SIGKILL the `n`th time (default 1st) it reaches the named point, so a test can
 * hit a narrow window (a blob renamed but not yet recorded, a transaction half done)
 * reliably instead of by timing. Unset, a call is one comparison.
 *
 * Points: `ingest-before-rename`, `after-blob-before-metadata`, `mid-transaction`,
 * `mid-unpack`, `rmi-before-prune`, `mid-prune`.
 */
const spec = process.env.STRATA_CRASH_AT;
const [target, nth] = spec ? spec.split(":") : [undefined, undefined];
let remaining = nth ? Number(nth) : 1;

/** Die at once (SIGKILL, as `kill -9`) when `STRATA_CRASH_AT` names this point. */
export function crashPoint(name: string): void {
  if (target === undefined || target !== name) return;
  remaining--;
  if (remaining <= 0) process.kill(process.pid, "SIGKILL");
}
