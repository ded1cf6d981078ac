import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { removeAttribute, setAttribute } from "@napi-rs/xattr";
import { ReferenceTree, renameInTree, writeAt } from "./change-helpers.js";
import { MOUNTS_AND_OWNERS } from "./content-cases.js";
import { applyFixture, FIXTURE_MTIME, filesFixture } from "./fixtures.js";
import type { SuiteCase } from "./harness.js";
import { compareTrees } from "./tree.js";

const LOWER = filesFixture({
  x: "x\n",
  y: "y\n",
  "a/b/c": "c\n",
  "a/b/deeper/d": "d\n",
  "a/keep": "keep\n",
  "d/1": "1\n",
  "d/sub/2": "2\n",
  "dir-to-file/f": "f\n",
  "file-to-dir": "file\n",
  "dir1/sub/f": "f\n",
  "dir1/g": "g\n",
  file1: "file1\n",
  meta: "meta\n",
});

/** Cases about layers on layers: deletions, opaque directories, renames, deep chains. */
export const layeringCases: readonly SuiteCase[] = [
  {
    name: "deleted files and directories and replaced directories hide the lower content",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const ref = await ReferenceTree.create(env);
      await ref.layer("base", undefined, (dir) => applyFixture(dir, LOWER));
      await ref.layer("deletions", "base", async (dir) => {
        await fs.rm(path.join(dir, "x"));
        await fs.rm(path.join(dir, "a/b"), { recursive: true });
        // Removed and made again: only the new content may show (an opaque directory).
        await fs.rm(path.join(dir, "d"), { recursive: true });
        await fs.mkdir(path.join(dir, "d"), { mode: 0o750 });
        await fs.chmod(path.join(dir, "d"), 0o750);
        await writeAt(path.join(dir, "d/new"), "new\n");
        await fs.rm(path.join(dir, "dir-to-file"), { recursive: true });
        await writeAt(path.join(dir, "dir-to-file"), "now a file\n");
        await fs.rm(path.join(dir, "file-to-dir"));
        await fs.mkdir(path.join(dir, "file-to-dir"));
        await fs.chmod(path.join(dir, "file-to-dir"), 0o755);
        await writeAt(path.join(dir, "file-to-dir/inside"), "inside\n");
      });
      // Bring back names that a lower layer deleted.
      await ref.layer("again", "deletions", async (dir) => {
        await writeAt(path.join(dir, "x"), "x again\n");
        await fs.mkdir(path.join(dir, "a/b"));
        await fs.chmod(path.join(dir, "a/b"), 0o755);
        await writeAt(path.join(dir, "a/b/other"), "other\n");
      });
      const top = await env.viewTree("again");
      assert.ok(!top.has("a/b/c") && !top.has("a/b/deeper"), "a/b's old content stays hidden");
      assert.deepEqual(
        [...top.keys()].filter((p) => p.startsWith("d/")),
        ["d/new"],
        "the remade d shows only its new content",
      );
    },
  },
  {
    name: "renaming a directory and a file that come from a lower layer",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const ref = await ReferenceTree.create(env);
      await ref.layer("base", undefined, (dir) => applyFixture(dir, LOWER));
      await ref.layer("renamed", "base", async (dir) => {
        await renameInTree(path.join(dir, "dir1"), path.join(dir, "dir2"));
        await renameInTree(path.join(dir, "file1"), path.join(dir, "dir2/file1-moved"));
        await writeAt(path.join(dir, "dir2/sub/added"), "added\n");
      });
      await ref.layer("after", "renamed", async (dir) => {
        await writeAt(path.join(dir, "dir2/sub/f"), "changed after the rename\n");
        await fs.mkdir(path.join(dir, "dir1"));
        await fs.chmod(path.join(dir, "dir1"), 0o755);
        await writeAt(path.join(dir, "dir1/fresh"), "fresh\n");
      });
      const top = await env.viewTree("after");
      assert.ok(!top.has("dir1/sub") && !top.has("dir1/g"), "the old dir1 content stays gone");
    },
  },
  {
    name: "metadata changes to lower entries (mode, owner, xattrs, times, new links) show in the child only",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const ref = await ReferenceTree.create(env);
      await ref.layer("base", undefined, async (dir) => {
        await applyFixture(dir, LOWER);
        await setAttribute(path.join(dir, "meta"), "user.old", "1");
        await setAttribute(path.join(dir, "meta"), "user.gone", "1");
      });
      const base = await ref.tree();
      await ref.layer("changed", "base", async (dir) => {
        const meta = path.join(dir, "meta");
        await fs.chown(meta, 3, 4);
        await fs.chmod(meta, 0o4710);
        await setAttribute(meta, "user.old", "2");
        await removeAttribute(meta, "user.gone");
        await setAttribute(meta, "trusted.strata.added", "t");
        await fs.utimes(meta, FIXTURE_MTIME + 1000, FIXTURE_MTIME + 1000);
        await fs.chmod(path.join(dir, "a"), 0o700);
        await fs.chown(path.join(dir, "a"), 7, 8);
        await fs.link(path.join(dir, "y"), path.join(dir, "y-link"));
        await fs.symlink("y", path.join(dir, "y-sym"));
        await fs.lchown(path.join(dir, "y-sym"), 9, 9);
      });
      const changed = await ref.tree();
      assert.equal(changed.get("y")?.linkGroup, "y", "reference sanity: the new hardlink groups");
      assert.deepEqual(
        compareTrees(base, await env.viewTree("base")),
        [],
        "the parent is unchanged",
      );
    },
  },
  {
    name: "a deep chain of layers reads its bottom file and every layer's file",
    privileged: MOUNTS_AND_OWNERS,
    timeoutMs: 600_000,
    async run({ sn, mounted, layer, options }) {
      const n = options.chainLength ?? 128;
      let parent: string | undefined;
      for (let i = 0; i < n; i++) {
        await layer(`layer-${i}`, parent, async (dir) => {
          if (i === 0) {
            await fs.mkdir(path.join(dir, "bottom/deep/er"), { recursive: true });
            await fs.writeFile(path.join(dir, "bottom/deep/er/file"), "bottom\n");
          }
          await fs.writeFile(path.join(dir, `file-${i}`), `${i}\n`);
          await fs.writeFile(path.join(dir, "top"), `${i}\n`);
        });
        parent = `layer-${i}`;
      }
      const check = async (dir: string) => {
        assert.equal(await fs.readFile(path.join(dir, "bottom/deep/er/file"), "utf8"), "bottom\n");
        assert.equal(await fs.readFile(path.join(dir, "top"), "utf8"), `${n - 1}\n`);
        for (let i = 0; i < n; i++) {
          assert.equal(await fs.readFile(path.join(dir, `file-${i}`), "utf8"), `${i}\n`);
        }
        assert.equal((await fs.readdir(dir)).length, n + 2, "no other entries");
      };
      await mounted(await sn.prepare("reader", parent), check);
      await mounted(await sn.view("viewer", parent), check);
      await sn.remove("reader");
      await sn.remove("viewer");
      for (let i = n - 1; i >= 0; i--) await sn.remove(`layer-${i}`);
    },
  },
];
