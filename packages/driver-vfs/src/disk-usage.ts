import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Usage } from "@strata/core";

/**
 * Inodes and bytes under `dir`, counting each inode once (hardlinks share one): every
 * entry including `dir` itself is an inode; bytes are the apparent sizes of everything but
 * directories (whose sizes depend on the filesystem, not on the content).
 */
export async function diskUsage(dir: string, signal?: AbortSignal): Promise<Usage> {
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
