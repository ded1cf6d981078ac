import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { sha256Digest } from "../content/digest.js";
import type { Differ } from "../diff/differ.js";
import { MediaTypes } from "../image/media-types.js";
import { exists, expectCode } from "./assertions.js";
import { MOUNTS_AND_OWNERS } from "./content-cases.js";
import { applyFixture, filesFixture } from "./fixtures.js";
import type { CaseEnv, SuiteCase } from "./harness.js";
import { buildLayerTar, type LayerTarEntry, storeLayer } from "./layer-tar.js";
import { captureTree } from "./tree.js";

/** The differ under test, or a clear failure when the harness has none. */
export function differOf(env: CaseEnv): Differ {
  if (!env.differ) throw new Error("differSuite: the harness factory returned no `differ`");
  return env.differ;
}

/** Places an entry escaping the tree could land (the tree sits in the driver's root). */
function escapeCandidates(env: CaseEnv, name: string): string[] {
  const dirs = [
    "/",
    os.tmpdir(),
    env.work,
    env.ctx.root,
    path.dirname(env.ctx.root),
    path.join(env.ctx.root, "snapshots"),
  ];
  return [...new Set(dirs)].map((d) => path.join(d, name));
}

/** Cases about applying hand-made layers: whiteouts, compression, breakouts, errors. */
export const differSafetyCases: readonly SuiteCase[] = [
  {
    name: "apply honours .wh. whiteouts and .wh..wh..opq opaque markers",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const { sn, cs, mounted } = env;
      const files = {
        x: "x\n",
        y: "y\n",
        "a/b/c": "c\n",
        "a/keep": "k\n",
        "d/1": "1\n",
        "d/s/2": "2\n",
      };
      await env.layer("base", undefined, (dir) => applyFixture(dir, filesFixture(files)));
      const layer = await buildLayerTar([
        { name: ".wh.x" },
        { name: "a/", type: "directory" },
        { name: "a/.wh.b" },
        { name: "d/", type: "directory" },
        { name: "d/.wh..wh..opq" },
        { name: "d/new", content: "new\n" },
        { name: "z", content: "z\n" },
      ]);
      const { desc, diffId, tarSize } = await storeLayer(cs, layer);
      const target = await sn.prepare("target", "base");
      const applied = await differ.apply(desc, target);
      assert.deepEqual(
        [applied.digest, applied.size],
        [diffId, tarSize],
        "apply reports the diff ID",
      );
      const want = ["a", "a/keep", "d", "d/new", "y", "z"];
      const names = (t: Map<string, unknown>) => [...t.keys()].filter((n) => n !== ".").sort();
      assert.deepEqual(names(await mounted(target, captureTree)), want, "after apply");
      await sn.commit("applied", "target");
      assert.deepEqual(names(await env.viewTree("applied")), want, "after commit");
    },
  },
  {
    name: "apply of a gzip layer writes its content and reports the uncompressed diff ID",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const { sn, cs, mounted } = env;
      const layer = await buildLayerTar([
        { name: "gz/", type: "directory" },
        { name: "gz/f", content: "compressed\n", mode: 0o600 },
        { name: "gz/l", type: "symlink", linkname: "f" },
      ]);
      const { desc, diffId, tarSize } = await storeLayer(cs, layer, "gzip");
      assert.equal(desc.mediaType, MediaTypes.OciLayerGzip);
      const target = await sn.prepare("target");
      const applied = await differ.apply(desc, target);
      assert.deepEqual([applied.digest, applied.size], [diffId, tarSize]);
      const tree = await mounted(target, captureTree);
      assert.equal(tree.get("gz/f")?.digest, sha256Digest("compressed\n"));
      assert.equal(tree.get("gz/f")?.mode, 0o600);
      assert.equal(tree.get("gz/l")?.target, "f");
    },
  },
  {
    name: "apply rejects entries that would land outside the tree",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const { sn, cs } = env;
      const canary = `strata-breakout-${randomBytes(6).toString("hex")}`;
      const outside = await env.scratch("outside");
      const up = "../".repeat(40);
      const attempts: Array<{ what: string; entries: LayerTarEntry[]; mustReject: boolean }> = [
        {
          what: "a ../ name",
          entries: [{ name: `${up}${canary}`, content: "x" }],
          mustReject: true,
        },
        {
          what: "a hardlink to a path outside",
          entries: [{ name: "hl", type: "link", linkname: `${up}etc/hostname` }],
          mustReject: true,
        },
        // Writing through a symlink may be rejected, or resolved inside the tree as
        // containerd does; it must never reach the symlink's outside target.
        {
          what: "a file under a relative symlink that points outside",
          entries: [
            { name: "evil", type: "symlink", linkname: up.slice(0, -1) },
            { name: `evil/${canary}`, content: "x" },
          ],
          mustReject: false,
        },
        {
          what: "a file under an absolute symlink to a directory outside",
          entries: [
            { name: "abs", type: "symlink", linkname: outside },
            { name: `abs/${canary}`, content: "x" },
          ],
          mustReject: false,
        },
      ];
      for (const [i, a] of attempts.entries()) {
        const { desc } = await storeLayer(cs, await buildLayerTar(a.entries));
        const target = await sn.prepare(`target-${i}`);
        if (a.mustReject) {
          await expectCode(differ.apply(desc, target), "INVALID_ARGUMENT", `apply of ${a.what}`);
        } else {
          await differ.apply(desc, target).catch(() => undefined);
        }
        const leaked = [];
        for (const p of [...escapeCandidates(env, canary), path.join(outside, canary)]) {
          if (await exists(p)) leaked.push(p);
        }
        await Promise.all(leaked.map((p) => fs.rm(p, { force: true })));
        assert.deepEqual(leaked, [], `apply of ${a.what} wrote outside the tree`);
      }
      assert.deepEqual(await fs.readdir(outside), [], "nothing landed in the outside directory");
    },
  },
  {
    name: "apply of a blob that is not in the content store fails with NotFoundError",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const target = await env.sn.prepare("target");
      const desc = { mediaType: MediaTypes.OciLayer, digest: sha256Digest("absent"), size: 6 };
      await expectCode(differ.apply(desc, target), "NOT_FOUND", "apply of a missing blob");
    },
  },
];
