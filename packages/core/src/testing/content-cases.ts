import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { exists, expectCode, expectErrno } from "./assertions.js";
import { writeAt } from "./change-helpers.js";
import { applyFixture, BASE_LAYER, filesFixture, patternBytes } from "./fixtures.js";
import type { SuiteCase } from "./harness.js";
import { assertTreesEqual, captureTree, formatTree } from "./tree.js";

/** Why the content cases need privileges. */
export const MOUNTS_AND_OWNERS =
  "the kit mounts the driver's mounts (bind, overlay, FUSE) and writes owners, device nodes and trusted.* xattrs";

const SMALL = filesFixture({ f: "base\n", h: "h\n", "dir/g": "g\n", shared: "shared\n" });

/** Cases about what a snapshot holds: roots, a rich base layer, isolation, views, usage. */
export const contentCases: readonly SuiteCase[] = [
  {
    name: "an empty snapshot is an empty 0755 root, in prepare, view and a child",
    privileged: MOUNTS_AND_OWNERS,
    async run({ sn, mounted, viewTree }) {
      const check = async (what: string, tree: Awaited<ReturnType<typeof captureTree>>) => {
        assert.equal(tree.size, 1, `${what} holds nothing, got:\n${formatTree(tree)}`);
        const root = tree.get(".")!;
        assert.deepEqual([root.type, root.mode.toString(8)], ["dir", "755"], `${what}: root`);
        assert.deepEqual(
          [root.uid, root.gid],
          [process.getuid?.(), process.getgid?.()],
          `${what}: owner`,
        );
      };
      await check("a prepared empty snapshot", await mounted(await sn.prepare("a"), captureTree));
      await check("an empty view", await mounted(await sn.view("v"), captureTree));
      await sn.commit("base", "a");
      await check("a committed empty snapshot", await viewTree("base"));
      await check("its child", await mounted(await sn.prepare("child", "base"), captureTree));
    },
  },
  {
    name: "a base layer with odd modes, owners, links, xattrs, fifos and devices comes back identical",
    privileged: MOUNTS_AND_OWNERS,
    async run({ sn, mounted, layer, viewTree, scratch }) {
      const ref = await scratch("ref");
      await fs.chmod(ref, 0o755);
      await applyFixture(ref, BASE_LAYER);
      const want = await captureTree(ref);
      assert.equal(want.get("usr/bin/passwd")?.mode, 0o4755, "fixture sanity: setuid kept");
      assert.equal(want.get("bin/ash")?.linkGroup, "bin/ash", "fixture sanity: hardlinks grouped");
      await layer("base", undefined, async (dir) => {
        await applyFixture(dir, BASE_LAYER);
        assertTreesEqual(
          want,
          await captureTree(dir),
          "the base layer as written through its mounts",
        );
      });
      const child = await sn.prepare("child", "base");
      await mounted(child, async (dir) => {
        assertTreesEqual(want, await captureTree(dir), "a child of the committed base");
      });
      assertTreesEqual(want, await viewTree("base"), "a view of the committed base");
      await sn.commit("child-c", "child");
      assertTreesEqual(want, await viewTree("child-c"), "the child, committed without changes");
    },
  },
  {
    name: "writes to a child show in it only, not in its parent or a sibling",
    privileged: MOUNTS_AND_OWNERS,
    async run({ sn, mounted, viewTree }) {
      await sn.prepare("a");
      await mounted(await sn.mounts("a"), (dir) => applyFixture(dir, SMALL));
      await sn.commit("base", "a");
      const before = await viewTree("base");
      await sn.prepare("c1", "base");
      await sn.prepare("c2", "base");
      await mounted(await sn.mounts("c1"), async (dir) => {
        await writeAt(path.join(dir, "f"), "child\n");
        await writeAt(path.join(dir, "new"), "new\n");
        await fs.appendFile(path.join(dir, "dir/g"), "more\n");
        await fs.rm(path.join(dir, "h"));
      });
      await mounted(await sn.mounts("c1"), async (dir) => {
        assert.equal(
          await fs.readFile(path.join(dir, "f"), "utf8"),
          "child\n",
          "c1 keeps its write",
        );
        assert.equal(await fs.readFile(path.join(dir, "dir/g"), "utf8"), "g\nmore\n");
        assert.ok(!(await exists(path.join(dir, "h"))), "c1 keeps its deletion");
      });
      await mounted(await sn.mounts("c2"), async (dir) => {
        assertTreesEqual(before, await captureTree(dir), "a sibling of the changed child");
      });
      assertTreesEqual(before, await viewTree("base"), "the parent of the changed child");
    },
  },
  {
    name: "writing into a view fails with EROFS or EACCES and changes nothing",
    privileged: MOUNTS_AND_OWNERS,
    async run({ sn, mounted, layer, viewTree }) {
      await layer("base", undefined, (dir) => applyFixture(dir, SMALL));
      const before = await viewTree("base");
      const denied = ["EROFS", "EACCES", "EPERM"];
      for (const [key, parent] of [
        ["v", "base"],
        ["empty", undefined],
      ] as const) {
        await mounted(await sn.view(key, parent), async (dir) => {
          await expectErrno(
            fs.writeFile(path.join(dir, "new"), "x"),
            denied,
            `create in view ${key}`,
          );
          await expectErrno(fs.mkdir(path.join(dir, "d")), denied, `mkdir in view ${key}`);
          await expectErrno(fs.chmod(dir, 0o700), denied, `chmod of view ${key}'s root`);
          if (parent) {
            await expectErrno(
              fs.writeFile(path.join(dir, "f"), "x"),
              denied,
              "overwrite in a view",
            );
            await expectErrno(fs.rm(path.join(dir, "h")), denied, "unlink in a view");
          }
        });
      }
      assertTreesEqual(before, await viewTree("base"), "the view's parent after the failed writes");
      assertTreesEqual(before, await viewTree("base"), "a second view of it");
    },
  },
  {
    name: "usage reports bytes and inodes that grow with content and is kept at commit",
    privileged: MOUNTS_AND_OWNERS,
    async run({ sn, mounted }) {
      await sn.prepare("a");
      const u0 = await sn.usage("a");
      assert.ok(u0.size >= 0 && u0.inodes >= 0, `usage is non-negative: ${JSON.stringify(u0)}`);
      await mounted(await sn.mounts("a"), async (dir) => {
        await fs.writeFile(path.join(dir, "big"), patternBytes(1024 * 1024));
        await fs.mkdir(path.join(dir, "d"));
        for (let i = 0; i < 10; i++) await fs.writeFile(path.join(dir, `d/${i}`), "x".repeat(100));
      });
      const u1 = await sn.usage("a");
      assert.ok(u1.size >= u0.size + 1024 * 1024 + 1000, `size grows: ${u0.size} -> ${u1.size}`);
      assert.ok(u1.inodes >= u0.inodes + 12, `inodes grow: ${u0.inodes} -> ${u1.inodes}`);
      await sn.commit("base", "a");
      assert.deepEqual(
        await sn.usage("base"),
        u1,
        "a committed snapshot's usage is that at commit",
      );
      await sn.prepare("child", "base");
      const c0 = await sn.usage("child");
      await mounted(await sn.mounts("child"), (dir) =>
        fs.writeFile(path.join(dir, "more"), patternBytes(64 * 1024)),
      );
      const c1 = await sn.usage("child");
      assert.ok(c1.size >= c0.size + 64 * 1024, `a child's size grows: ${c0.size} -> ${c1.size}`);
      assert.ok(c1.inodes >= c0.inodes + 1, `a child's inodes grow: ${c0.inodes} -> ${c1.inodes}`);
      await expectCode(sn.usage("missing"), "NOT_FOUND", "usage of a missing key");
    },
  },
  {
    name: "several snapshots prepared, written and committed at once all work",
    privileged: MOUNTS_AND_OWNERS,
    async run({ sn, mounted, layer, viewTree }) {
      await layer("base", undefined, (dir) => applyFixture(dir, SMALL));
      const actives = Array.from({ length: 8 }, (_, i) => `active-${i}`);
      const views = Array.from({ length: 4 }, (_, i) => `view-${i}`);
      await Promise.all([
        ...actives.map((k) => sn.prepare(k, "base")),
        ...views.map((k) => sn.view(k, "base")),
      ]);
      await Promise.all(
        actives.map(async (k) =>
          mounted(await sn.mounts(k), async (dir) => {
            await fs.writeFile(path.join(dir, `own-${k}`), k);
            assert.equal(await fs.readFile(path.join(dir, "shared"), "utf8"), "shared\n");
          }),
        ),
      );
      await Promise.all(
        views.map(async (k) =>
          mounted(await sn.mounts(k), async (dir) => {
            const names = (await fs.readdir(dir)).sort();
            assert.deepEqual(names, ["dir", "f", "h", "shared"], `view ${k} sees the base only`);
          }),
        ),
      );
      await Promise.all(actives.map((k, i) => sn.commit(`committed-${i}`, k)));
      const trees = await Promise.all(actives.map((_, i) => viewTree(`committed-${i}`)));
      trees.forEach((tree, i) => {
        const own = [...tree.keys()].filter((p) => p.startsWith("own-"));
        assert.deepEqual(own, [`own-active-${i}`], `committed-${i} holds its own file only`);
      });
      await Promise.all(views.map((k) => sn.remove(k)));
      await Promise.all(actives.map((_, i) => sn.remove(`committed-${i}`)));
      await sn.remove("base");
    },
  },
];
