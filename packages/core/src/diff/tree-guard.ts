import * as fs from "node:fs";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";

/**
 * Normalize a tar entry name (or hardlink target) to a path relative to the tree root:
 * `./etc//passwd` becomes `etc/passwd`, `./` and `.` become `""` (the root itself).
 * @throws InvalidArgumentError for an absolute name, a `..` component or a NUL byte.
 */
export function cleanLayerPath(name: string, what = "layer entry"): string {
  if (name.startsWith("/")) throw new InvalidArgumentError(`${what} "${name}": absolute path`);
  if (name.includes("\0")) throw new InvalidArgumentError(`${what} "${name}": NUL in path`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new InvalidArgumentError(`${what} "${name}": ".." in path`);
  return parts.join("/");
}

/**
 * Keeps an extraction inside its tree: every parent component of a path is checked with
 * `lstat` to be a real directory (never a symlink, so nothing is written through a link
 * out of the tree), and missing ones are created (mode 0755, as docker does). Checked
 * directories are remembered until {@link forget} says one was removed or replaced.
 */
export class TreeGuard {
  private readonly dirs = new Set<string>();

  constructor(readonly root: string) {}

  /** Absolute path of `rel` (already cleaned by {@link cleanLayerPath}). */
  abs(rel: string): string {
    return rel === "" ? this.root : path.join(this.root, rel);
  }

  /**
   * Make sure each parent of `rel` is a real directory inside the tree.
   * @param create create missing parents; without it a missing parent returns `false`.
   * @throws InvalidArgumentError when a parent is a symlink or not a directory.
   */
  parents(rel: string, create: boolean, name = rel): boolean {
    let end = rel.indexOf("/");
    while (end >= 0) {
      const dir = rel.slice(0, end);
      if (!this.dirs.has(dir)) {
        const abs = this.abs(dir);
        const st = fs.lstatSync(abs, { throwIfNoEntry: false });
        if (!st) {
          if (!create) return false;
          fs.mkdirSync(abs, 0o755);
        } else if (st.isSymbolicLink()) {
          throw new InvalidArgumentError(`layer entry "${name}": parent "${dir}" is a symlink`);
        } else if (!st.isDirectory()) {
          throw new InvalidArgumentError(
            `layer entry "${name}": parent "${dir}" is not a directory`,
          );
        }
        this.dirs.add(dir);
      }
      end = rel.indexOf("/", end + 1);
    }
    return true;
  }

  /** The directory at `rel` (and so all below it) was removed or replaced. */
  forget(rel: string): void {
    if (!this.dirs.delete(rel) || this.dirs.size === 0) return;
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d.startsWith(prefix)) this.dirs.delete(d);
  }
}
