import * as fs from "node:fs";

/**
 * Test hooks for crash-safety and concurrency tests, read once at start-up; unset, a call is
 * one comparison.
 *
 * - `STRATA_CRASH_AT=<point>[:<n>]` makes the process kill itself with SIGKILL the `n`th
 *   time (default 1st) it reaches the named point, so a test hits a narrow window (a blob
 *   renamed but not yet recorded, a transaction half done) reliably instead of by timing.
 * - `STRATA_PAUSE_AT=<point>:<file>` stops the process at the point (the first time) until
 *   `<file>` exists, after creating `<file>.reached`: a test runs another process in the
 *   window, then lets this one go on.
 *
 * Points: `ingest-before-rename`, `after-blob-before-metadata`, `mid-transaction`,
 * `mid-unpack`, `rmi-before-prune`, `mid-prune`.
 */
const crash = split(process.env.STRATA_CRASH_AT);
let remaining = crash ? Number(crash[1] || 1) : 0;
let pause = split(process.env.STRATA_PAUSE_AT);

/** Die (SIGKILL, as `kill -9`) or pause here when a test hook names this point. */
export function crashPoint(name: string): void {
  if (pause && pause[0] === name) {
    const file = pause[1];
    pause = undefined;
    fs.writeFileSync(`${file}.reached`, "");
    const cell = new Int32Array(new SharedArrayBuffer(4));
    while (!fs.existsSync(file)) Atomics.wait(cell, 0, 0, 50);
  }
  if (!crash || crash[0] !== name) return;
  remaining--;
  if (remaining <= 0) process.kill(process.pid, "SIGKILL");
}

function split(spec: string | undefined): [string, string] | undefined {
  if (!spec) return undefined;
  const i = spec.indexOf(":");
  return i < 0 ? [spec, ""] : [spec.slice(0, i), spec.slice(i + 1)];
}
