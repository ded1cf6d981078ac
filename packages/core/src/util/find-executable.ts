import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";

/** The absolute path of executable `name` on `$PATH`, or `undefined` when there is none. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    .split(":")
    .filter(Boolean);
  for (const dir of dirs) {
    const p = path.join(dir, name);
    try {
      await fs.access(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}
