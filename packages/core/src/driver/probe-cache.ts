import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

/** The file in a driver's root holding its last successful probe. */
export const PROBE_CACHE_FILE = "driver-probe.json";

/**
 * What a remembered probe verdict depends on: the kernel release, the boot (modules loaded,
 * `/dev` set up, mounts allowed may all change with a reboot), and whatever the driver adds
 * (the backing filesystem, a helper binary's size and mtime, the probe's own version).
 */
export type ProbeFingerprint = Readonly<Record<string, string>>;

/**
 * A driver probe's successful verdict remembered in the driver's root, so that each
 * command does not repeat the probe's test mount (30–250 ms of a command's start-up).
 * A remembered verdict is used only while every fact of its {@link ProbeFingerprint} is
 * unchanged: same kernel release, same boot, and the same driver-specific facts; anything
 * else, and the probe runs again. Failures are never remembered, and the cheap checks a
 * probe makes before its test mount (privileges, the kernel's filesystem list) are meant
 * to run every time, before {@link read}.
 *
 * Writes go to a temporary file renamed into place, so a reader sees a whole file or none;
 * a file that does not parse counts as a miss.
 *
 * @example
 * ```ts
 * const cache = new ProbeCache<OverlayProbeResult>(root, await ProbeCache.fingerprint({
 *   probe: "overlay-1", backingFilesystem: backing,
 * }));
 * const hit = await cache.read();
 * if (hit) return hit;
 * const result = await testMount();
 * await cache.write(result);
 * ```
 */
export class ProbeCache<T> {
  constructor(
    private readonly root: string,
    private readonly fingerprint: ProbeFingerprint,
  ) {}

  /** The kernel release and boot ID, plus `extra`: the usual fingerprint. */
  static async fingerprint(extra: Record<string, string>): Promise<ProbeFingerprint> {
    const boot = await fs
      .readFile("/proc/sys/kernel/random/boot_id", "utf8")
      .then((s) => s.trim())
      .catch(() => "unknown");
    return { kernel: os.release(), boot, ...extra };
  }

  /** The remembered result when its fingerprint matches this one's, else undefined. */
  async read(): Promise<T | undefined> {
    let saved: { fingerprint?: unknown; result?: T };
    try {
      saved = JSON.parse(await fs.readFile(this.file, "utf8"));
    } catch {
      return undefined;
    }
    return sameFingerprint(saved.fingerprint, this.fingerprint) ? saved.result : undefined;
  }

  /** Remember `result` (a probe that passed) under this fingerprint. */
  async write(result: T): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify({ fingerprint: this.fingerprint, result })}\n`);
    await fs.rename(tmp, this.file);
  }

  /** Forget the remembered verdict (the next probe runs in full). */
  async clear(): Promise<void> {
    await fs.rm(this.file, { force: true });
  }

  private get file(): string {
    return path.join(this.root, PROBE_CACHE_FILE);
  }
}

function sameFingerprint(saved: unknown, current: ProbeFingerprint): boolean {
  if (typeof saved !== "object" || saved === null) return false;
  const a = saved as Record<string, unknown>;
  const keys = Object.keys(current);
  return Object.keys(a).length === keys.length && keys.every((k) => a[k] === current[k]);
}
