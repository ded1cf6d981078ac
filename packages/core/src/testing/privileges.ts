import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

let cached: { gap: string | undefined } | undefined;

/**
 * Why this process cannot run privileged cases, or `undefined` when it can: it must be
 * root and able to mount (a bind mount of a temporary directory onto itself is tried once).
 * Synchronous, because runners register tests synchronously.
 */
export function privilegeGap(): string | undefined {
  cached ??= { gap: probe() };
  return cached.gap;
}

function probe(): string | undefined {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return "not running as root";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strata-probe-"));
  try {
    const m = spawnSync("mount", ["--bind", dir, dir], { encoding: "utf8" });
    if (m.error) return `cannot run mount(8): ${m.error.message}`;
    if (m.status !== 0) return `root cannot mount here (${m.stderr.trim() || `exit ${m.status}`})`;
    spawnSync("umount", [dir]);
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
