import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { removeAttribute, setAttribute } from "@napi-rs/xattr";
import { isDigest } from "../content/digest.js";
import { MediaTypes } from "../image/media-types.js";
import { run } from "../util/exec.js";
import { renameInTree, writeAt } from "./change-helpers.js";
import { MOUNTS_AND_OWNERS } from "./content-cases.js";
import { differOf, differSafetyCases } from "./differ-safety-cases.js";
import { applyFixture, BASE_LAYER, FIXTURE_MTIME, filesFixture } from "./fixtures.js";
import type { CaseEnv, SuiteCase } from "./harness.js";
import { cleanTarName, readLayerTar } from "./layer-tar.js";
import { assertTreesEqual, captureTree } from "./tree.js";

/**
 * Every kind of change a layer can carry, made on top of {@link BASE_LAYER}: exported so a
 * driver can compare its native differ with the naive one on the same changeset.
 */
export async function changeEverything(dir: string): Promise<void> {
  const p = (rel: string) => path.join(dir, rel);
  await writeAt(p("usr/bin/passwd"), "new content\n", 0o4755);
  await fs.mkdir(p("new"));
  await fs.chown(p("new"), 5, 6);
  await fs.chmod(p("new"), 0o700);
  await writeAt(p("new/file"), "new file\n", 0o640);
  await fs.link(p("new/file"), p("new/hardlink"));
  await fs.symlink("../etc/shadow", p("new/symlink"));
  await run("mknod", [p("new/zero"), "c", "1", "5"]);
  await run("mkfifo", [p("new/fifo")]);
  await fs.utimes(p("new/zero"), FIXTURE_MTIME, FIXTURE_MTIME);
  await fs.utimes(p("new/fifo"), FIXTURE_MTIME, FIXTURE_MTIME);
  await fs.chmod(p("usr/bin/wall"), 0o755);
  await fs.chown(p("etc/shadow"), 0, 0);
  await fs.chmod(p("tmp"), 0o777);
  await fs.utimes(p("etc/no-access"), FIXTURE_MTIME + 1000, FIXTURE_MTIME + 1000);
  await setAttribute(p("data/x"), "user.mime_type", "application/json");
  await removeAttribute(p("data/x"), "user.binary");
  await setAttribute(p("data/x"), "user.added", Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  await fs.rm(p("etc/dangling"));
  await fs.rm(p("home/user/.profile"));
  await fs.rm(p("with space"), { recursive: true });
  await fs.rm(p("run"), { recursive: true });
  await writeAt(p("run"), "run is a file now\n");
  await fs.rm(p("etc/write-only"));
  await fs.mkdir(p("etc/write-only"));
  await writeAt(p("etc/write-only/inside"), "inside\n");
  await fs.rm(p("usr/lib"), { recursive: true });
  await fs.mkdir(p("usr/lib"));
  await fs.chmod(p("usr/lib"), 0o755);
  await writeAt(p("usr/lib/libnew.so.2"), "only this\n");
  await renameInTree(p("home/user"), p("home/renamed"));
}

/**
 * Diff `lower` → `upper` (committed names; `undefined` lower = nothing), apply the layer onto
 * a fresh child of `lower`, and check the result equals `upper`'s tree, and that diff,
 * apply and the content store agree on digest and size.
 */
async function roundTrip(env: CaseEnv, lower: string | undefined, upperKey: string): Promise<void> {
  const differ = differOf(env);
  const { sn, cs, mounted } = env;
  const lowerMounts = lower ? await sn.view("diff-lower", lower) : [];
  const upperMounts = await sn.mounts(upperKey);
  const want = await mounted(upperMounts, captureTree);
  const desc = await differ.diff(lowerMounts, upperMounts);
  assert.equal(desc.mediaType, MediaTypes.OciLayer, "the default diff media type");
  assert.ok(isDigest(desc.digest), `a sha256 digest: ${desc.digest}`);
  assert.equal(
    (await cs.info(desc.digest)).size,
    desc.size,
    "the stored blob has the reported size",
  );
  const target = await sn.prepare("apply-target", lower);
  const applied = await differ.apply(desc, target);
  assert.equal(applied.digest, desc.digest, "apply reports the diff's digest (the diff ID)");
  assert.equal(applied.size, desc.size, "apply reports the diff's size");
  assertTreesEqual(want, await mounted(target, captureTree), "the applied layer vs the upper tree");
  await sn.commit("applied", "apply-target");
  assertTreesEqual(want, await env.viewTree("applied"), "the applied layer, committed");
}

/** The differ conformance cases. */
export const differCases: readonly SuiteCase[] = [
  {
    name: "diff of a base layer against nothing, applied onto an empty snapshot, reproduces it exactly",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      await env.layer("base", undefined, (dir) => applyFixture(dir, BASE_LAYER));
      await env.sn.view("upper", "base");
      await roundTrip(env, undefined, "upper");
    },
  },
  {
    name: "diff of every kind of change, applied onto a fresh child of the parent, reproduces the upper tree",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      await env.layer("base", undefined, (dir) => applyFixture(dir, BASE_LAYER));
      await env.mounted(await env.sn.prepare("upper", "base"), changeEverything);
      await roundTrip(env, "base", "upper");
    },
  },
  {
    name: "the size and digest diff reports are the blob's and equal what apply reports",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const { sn, cs } = env;
      await env.layer("base", undefined, (dir) => applyFixture(dir, filesFixture({ a: "a\n" })));
      await env.mounted(await sn.prepare("upper", "base"), (dir) =>
        writeAt(path.join(dir, "b"), "b\n"),
      );
      const desc = await differ.diff(await sn.view("lower", "base"), await sn.mounts("upper"));
      const blob = await fs.readFile(cs.blobPath(desc.digest));
      assert.equal(desc.size, blob.length, "reported size = blob length");
      assert.equal(desc.digest, `sha256:${createHash("sha256").update(blob).digest("hex")}`);
      const applied = await differ.apply(desc, await sn.prepare("target", "base"));
      assert.deepEqual([applied.digest, applied.size], [desc.digest, desc.size]);
    },
  },
  {
    name: "diff writes OCI whiteouts, hardlinks as typeflag 1 and xattrs as PAX records",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const { sn, cs } = env;
      const files = { x: "x\n", "a/b/c": "c\n", "a/keep": "k\n", "h/f": "f\n" };
      await env.layer("base", undefined, (dir) => applyFixture(dir, filesFixture(files)));
      await env.mounted(await sn.prepare("upper", "base"), async (dir) => {
        await fs.rm(path.join(dir, "x"));
        await fs.rm(path.join(dir, "a/b"), { recursive: true });
        await writeAt(path.join(dir, "h/f2"), "f2\n");
        await setAttribute(path.join(dir, "h/f2"), "user.k", "v");
        await fs.link(path.join(dir, "h/f2"), path.join(dir, "h/f2-link"));
      });
      const desc = await differ.diff(await sn.view("lower", "base"), await sn.mounts("upper"));
      const headers = await readLayerTar(cs, desc.digest);
      const byName = new Map(headers.map((h) => [cleanTarName(h.name), h]));
      const names = [...byName.keys()];
      assert.ok(byName.has(".wh.x"), `a whiteout for x in ${names.join(", ")}`);
      assert.ok(byName.has("a/.wh.b"), `a whiteout for a/b in ${names.join(", ")}`);
      assert.ok(!names.some((n) => n.startsWith("a/b/")), "nothing under the deleted a/b");
      const pair = [byName.get("h/f2"), byName.get("h/f2-link")];
      const file = pair.find((h) => h?.type === "file");
      const link = pair.find((h) => h?.type === "link");
      assert.ok(file && link, `one regular file and one hardlink: ${JSON.stringify(pair)}`);
      assert.equal(cleanTarName(link.linkname ?? ""), cleanTarName(file.name), "the link's target");
      assert.equal(file.pax["SCHILY.xattr.user.k"], "v", "the xattr as a PAX record");
      const count = desc.annotations?.["io.strata.layer.entries"];
      if (count !== undefined)
        assert.equal(count, String(headers.length), "the entry count annotation");
    },
  },
  {
    name: "diff of two identical trees is an empty layer",
    privileged: MOUNTS_AND_OWNERS,
    async run(env) {
      const differ = differOf(env);
      const { sn, cs } = env;
      await env.layer("base", undefined, (dir) => applyFixture(dir, BASE_LAYER));
      await sn.prepare("upper", "base");
      const desc = await differ.diff(await sn.view("lower", "base"), await sn.mounts("upper"));
      const headers = await readLayerTar(cs, desc.digest);
      assert.deepEqual(
        headers.map((h) => h.name),
        [],
        "no entries in the diff of identical trees",
      );
    },
  },
  ...differSafetyCases,
];
