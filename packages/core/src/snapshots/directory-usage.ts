import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Usage } from "./snapshotter.js";

/**
 * Bytes and inodes under `dir` (the directory itself included), counting each inode once
 * however many hardlinks it has, as containerd's `fs.DiskUsage` does. Bytes are the
 * apparent sizes of everything but directories (whose sizes depend on the filesystem,
 * not on the content).
 * @throws the signal's reason when `signal` aborts.
 */
export async function directoryUsage(dir: string, signal?: AbortSignal): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  const stack = [dir];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const p = stack.pop()!;
    const st = await fs.lstat(p, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (st.isDirectory()) {
      for (const name of await fs.readdir(p)) stack.push(path.join(p, name));
    } else {
      size += Number(st.size);
    }
  }
  return { inodes: seen.size, size };
}
