import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Usage } from "./snapshotter.js";

/**
 * Bytes and inodes under `dir` (the directory itself included), counting each inode once
 * however many hardlinks it has, as containerd's `fs.DiskUsage` does.
 */
export async function directoryUsage(dir: string): Promise<Usage> {
  const seen = new Set<number>();
  let size = 0;
  const visit = async (p: string): Promise<void> => {
    const st = await fs.lstat(p, { bigint: false });
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      if (!st.isDirectory()) size += st.size;
    }
    if (st.isDirectory()) {
      for (const name of await fs.readdir(p)) await visit(path.join(p, name));
    }
  };
  await visit(dir);
  return { size, inodes: seen.size };
}
