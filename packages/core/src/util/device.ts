import { run } from "./exec.js";

/** A device number split into its parts. */
export interface DeviceNumber {
  major: number;
  minor: number;
}

/** Split a Linux `st_rdev` into major and minor (glibc's `gnu_dev_major`/`gnu_dev_minor`). */
export function splitDevice(rdev: number): DeviceNumber {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}

/** Combine major and minor into a Linux `st_rdev` (glibc's `gnu_dev_makedev`). */
export function makeDevice(major: number, minor: number): number {
  const lo = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)) >>> 0;
  const hi = (major & 0xfffff000) >>> 0;
  return hi * 2 ** 32 + lo;
}

/**
 * Create a device node or fifo at `p` with the `mknod` command (Node has no mknod(2)).
 * The caller sets owner and mode afterwards.
 * @throws Error with mknod's message (EPERM without CAP_MKNOD, EEXIST, ...).
 */
export async function mknod(
  p: string,
  type: "char" | "block" | "fifo",
  dev?: DeviceNumber,
): Promise<void> {
  if (type === "fifo") {
    await run("mknod", ["-m", "0600", "--", p, "p"]);
    return;
  }
  const { major, minor } = dev ?? { major: 0, minor: 0 };
  await run("mknod", [
    "-m",
    "0600",
    "--",
    p,
    type === "char" ? "c" : "b",
    String(major),
    String(minor),
  ]);
}
