import * as fs from "node:fs/promises";
import * as path from "node:path";
import { run } from "@strata/core";
import { AUFS_MOUNT_TYPE } from "./aufs-mount-spec.js";

/** A FUSE mount as /proc/self/mountinfo shows it. */
export interface FuseMountInfo {
  /** Mount point, unescaped. */
  target: string;
  /** Filesystem type (`fuse.aufs`). */
  fstype: string;
  /** The FUSE connection number: the mount's device minor (`/sys/fs/fuse/connections/N`). */
  connection: number;
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Every aufs mount of this mount namespace, in mount order. */
export async function aufsMounts(): Promise<FuseMountInfo[]> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const out: FuseMountInfo[] = [];
  for (const line of info.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const fstype = post.split(" ")[0] ?? "";
    if (fstype !== AUFS_MOUNT_TYPE) continue;
    const fields = pre.split(" ");
    out.push({
      target: unescapeMountPath(fields[4] ?? ""),
      fstype,
      connection: Number((fields[2] ?? "").split(":")[1]),
    });
  }
  return out;
}

/** The topmost aufs mount at `target`, if any. */
export async function aufsMountAt(target: string): Promise<FuseMountInfo | undefined> {
  const abs = path.resolve(target);
  return (await aufsMounts()).filter((m) => m.target === abs).pop();
}

const FUSECTL = "/sys/fs/fuse/connections";
let fusectlChecked = false;

/**
 * Mount the FUSE control filesystem on /sys/fs/fuse/connections when it is not mounted:
 * helpers watch their connection there, and a hung one is aborted there. Best effort,
 * once per process.
 */
export async function ensureFusectl(): Promise<void> {
  if (fusectlChecked) return;
  fusectlChecked = true;
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  if (info.split("\n").some((l) => l.split(" ")[4] === FUSECTL)) return;
  await run("mount", ["-t", "fusectl", "fusectl", FUSECTL]).catch(() => {});
}

/**
 * Abort FUSE connection `n` (`/sys/fs/fuse/connections/N/abort`): every waiting and later
 * request fails with ENOTCONN, so a hung or dead helper no longer blocks its users and its
 * mount can be unmounted. Mounts fusectl when it is not mounted yet. Best effort.
 */
export async function abortConnection(n: number): Promise<void> {
  await ensureFusectl();
  await fs.writeFile(path.join(FUSECTL, String(n), "abort"), "1").catch(() => {});
}

/**
 * Unmount the aufs mount at `target`: plainly, or lazily when it is busy. With `abort`
 * (its helper is dead or hung), its connection is aborted first so that nothing waits
 * on it.
 * @returns whether the lazy unmount was needed (users still hold the mount).
 */
export async function unmountAufs(m: FuseMountInfo, abort: boolean): Promise<boolean> {
  if (abort) await abortConnection(m.connection);
  try {
    await run("umount", [m.target]);
    return false;
  } catch {
    await run("umount", ["-l", m.target]);
    return true;
  }
}
