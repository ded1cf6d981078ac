import * as fs from "node:fs/promises";
import * as path from "node:path";
import { run } from "../util/exec.js";
import { FIXTURE_MTIME } from "./fixtures.js";
import type { CaseEnv } from "./harness.js";
import { assertTreesEqual, captureTree } from "./tree.js";

/** A change to a tree, applied the same way to a plain directory and to a snapshot. */
export type TreeChange = (dir: string) => Promise<void>;

/** Write a file with the fixture mtime, so trees written at different times compare equal. */
export async function writeAt(
  file: string,
  content: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  await fs.writeFile(file, content);
  await fs.chmod(file, mode);
  await fs.utimes(file, FIXTURE_MTIME, FIXTURE_MTIME);
}

/**
 * Rename `from` to `to` inside one tree. A union filesystem may refuse to rename a
 * directory that comes from a lower layer with `EXDEV` (overlayfs without `redirect_dir`
 * does, as POSIX allows); applications then copy and delete, as mv(1) does, and so do we.
 */
export async function renameInTree(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await run("mv", ["-T", from, to]);
  }
}

/**
 * A plain directory that receives the same changes as a chain of snapshots, so each
 * committed layer can be compared with what a real filesystem makes of the same changes.
 */
export class ReferenceTree {
  private constructor(
    private readonly env: CaseEnv,
    /** The plain directory. */
    readonly dir: string,
  ) {}

  /** An empty reference whose root is 0755, like an empty snapshot's. */
  static async create(env: CaseEnv): Promise<ReferenceTree> {
    const dir = await env.scratch("ref");
    await fs.chmod(dir, 0o755);
    return new ReferenceTree(env, dir);
  }

  /**
   * Apply `change` to the reference and, through `prepare`/mount/`commit`, as layer `name`
   * on `parent`; then check the committed layer (through a view) equals the reference.
   */
  async layer(name: string, parent: string | undefined, change: TreeChange): Promise<void> {
    await change(this.dir);
    await this.env.layer(name, parent, async (dir) => {
      await change(dir);
      assertTreesEqual(await this.tree(), await captureTree(dir), `layer "${name}" while mounted`);
    });
    assertTreesEqual(await this.tree(), await this.env.viewTree(name), `committed layer "${name}"`);
  }

  /** The reference's current tree. */
  tree(): ReturnType<typeof captureTree> {
    return captureTree(this.dir);
  }

  /** Absolute path of `rel` inside the reference. */
  path(rel: string): string {
    return path.join(this.dir, rel);
  }
}
