import * as path from "node:path";
import {
  type CommitPlan,
  DirectorySnapshotter,
  directoryUsage,
  type SnapshotRecord,
} from "@strata/core";
import { applyLinks, planLinks } from "./link-plan.js";

/**
 * The hardlink snapshotter: an active snapshot is a full, private copy of its parent (as
 * vfs), and a committed snapshot shares every file it did not change with its parent by
 * hardlinks, so a chain of layers costs about what its changes cost (as overlay).
 *
 * Why it is correct: a hardlink is one file with two names, so a write through either name
 * changes both. Sharing is therefore done only between trees nobody writes: at commit,
 * after the record says "committed", each file identical to the parent's (mode, owner,
 * size, mtime, xattrs and bytes) is replaced by a hardlink to the parent's file. Active
 * snapshots are copied with `cp -a`, which turns a name shared with another tree into a
 * file of its own. A container therefore never writes to an inode any other snapshot uses.
 *
 * Everything else (layout, mounts, records, views, removal, crash cleanup) is core's
 * {@link DirectorySnapshotter}, the same base vfs is: this class only says what a commit
 * does to the tree.
 */
export class HardlinkSnapshotter extends DirectorySnapshotter {
  /**
   * Open (creating when needed) the snapshotter rooted at `root`.
   * @throws Error when the root or its database cannot be created.
   */
  constructor(root: string) {
    super("hardlink", root);
  }

  /**
   * Plan the links (and measure what the snapshot will own without the files it shares)
   * before the record changes; make them once the tree is committed and nobody writes it.
   */
  protected override async committing(
    rec: SnapshotRecord,
    signal?: AbortSignal,
  ): Promise<CommitPlan> {
    const dir = this.dir(rec.id);
    const parentId = rec.parentIds[0];
    if (parentId === undefined) return { usage: await directoryUsage(dir, signal) };
    const parentDir = this.dir(parentId);
    const plan = await planLinks(dir, parentDir, signal);
    if (plan.files.length === 0) return { usage: plan.usage };
    return {
      usage: plan.usage,
      afterCommit: () => applyLinks(dir, parentDir, plan.files, path.join(this.root, "staging")),
    };
  }
}
