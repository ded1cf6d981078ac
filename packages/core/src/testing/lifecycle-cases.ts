import assert from "node:assert/strict";
import { isReadOnly } from "../mount/mount.js";
import type { SnapshotFilter, SnapshotInfo, Snapshotter } from "../snapshots/snapshotter.js";
import { expectCode } from "./assertions.js";
import type { SuiteCase } from "./harness.js";

async function walked(
  sn: Snapshotter,
  filter?: SnapshotFilter,
): Promise<Map<string, SnapshotInfo>> {
  const out = new Map<string, SnapshotInfo>();
  await sn.walk(async (info) => {
    await Promise.resolve();
    assert.ok(!out.has(info.name), `walk visited "${info.name}" twice`);
    out.set(info.name, info);
  }, filter);
  return out;
}

async function names(sn: Snapshotter, filter?: SnapshotFilter): Promise<string[]> {
  return [...(await walked(sn, filter)).keys()].sort();
}

/**
 * Cases about the contract's bookkeeping (keys, kinds, parents, errors, labels). None of
 * them mounts anything.
 */
export const lifecycleCases: readonly SuiteCase[] = [
  {
    name: "stat reports kind, name and parent through prepare, commit and view",
    async run({ sn }) {
      await sn.prepare("a");
      const a = await sn.stat("a");
      assert.equal(a.kind, "active");
      assert.equal(a.name, "a");
      assert.equal(a.parent, undefined);
      assert.ok(
        a.created instanceof Date && a.updated instanceof Date,
        "created/updated are Dates",
      );
      await sn.commit("base", "a");
      assert.deepEqual(
        [(await sn.stat("base")).kind, (await sn.stat("base")).parent],
        ["committed", undefined],
      );
      await expectCode(sn.stat("a"), "NOT_FOUND", "stat of a committed (consumed) key");
      await sn.prepare("b", "base");
      assert.deepEqual(
        [(await sn.stat("b")).kind, (await sn.stat("b")).parent],
        ["active", "base"],
      );
      await sn.view("v", "base");
      assert.deepEqual([(await sn.stat("v")).kind, (await sn.stat("v")).parent], ["view", "base"]);
      await sn.commit("top", "b");
      const top = await sn.stat("top");
      assert.deepEqual([top.kind, top.name, top.parent], ["committed", "top", "base"]);
      await expectCode(sn.stat("missing"), "NOT_FOUND", "stat of a missing key");
    },
  },
  {
    name: "walk visits every snapshot once, as stat reports it, and honours filters",
    async run({ sn }) {
      await sn.prepare("a");
      await sn.commit("base", "a");
      await sn.prepare("child", "base");
      await sn.view("viewer", "base");
      await sn.prepare("other");
      const all = await walked(sn);
      assert.deepEqual([...all.keys()].sort(), ["base", "child", "other", "viewer"]);
      for (const [name, info] of all)
        assert.deepEqual(info, await sn.stat(name), `walk vs stat of ${name}`);
      assert.deepEqual(await names(sn, { kinds: ["active"] }), ["child", "other"]);
      assert.deepEqual(await names(sn, { kinds: ["committed", "view"] }), ["base", "viewer"]);
      assert.deepEqual(await names(sn, { parent: "base" }), ["child", "viewer"]);
      assert.deepEqual(await names(sn, { parent: "base", kinds: ["view"] }), ["viewer"]);
    },
  },
  {
    name: "a key is used once: prepare and view of a taken key fail with AlreadyExistsError",
    async run({ sn }) {
      await sn.prepare("a");
      await expectCode(sn.prepare("a"), "ALREADY_EXISTS", "prepare of an active key");
      await expectCode(sn.view("a"), "ALREADY_EXISTS", "view of an active key");
      await sn.commit("base", "a");
      await expectCode(sn.prepare("base"), "ALREADY_EXISTS", "prepare of a committed name");
      await expectCode(sn.view("base", "base"), "ALREADY_EXISTS", "view of a committed name");
      await sn.view("v", "base");
      await expectCode(sn.prepare("v", "base"), "ALREADY_EXISTS", "prepare of a view key");
      await expectCode(sn.view("v", "base"), "ALREADY_EXISTS", "view of a view key");
      const e = await expectCode(sn.prepare("v"), "ALREADY_EXISTS", "prepare of a view key");
      assert.match(e.message, /"v"/, "the message names the key");
      assert.deepEqual(await names(sn), ["base", "v"]);
    },
  },
  {
    name: "a missing parent fails with NotFoundError, an uncommitted one with InvalidArgumentError",
    async run({ sn }) {
      await expectCode(sn.prepare("x", "missing"), "NOT_FOUND", "prepare on a missing parent");
      await expectCode(sn.view("y", "missing"), "NOT_FOUND", "view on a missing parent");
      await sn.prepare("act");
      await sn.view("vw");
      await expectCode(sn.prepare("x", "act"), "INVALID_ARGUMENT", "prepare on an active parent");
      await expectCode(sn.view("y", "act"), "INVALID_ARGUMENT", "view on an active parent");
      await expectCode(sn.prepare("x", "vw"), "INVALID_ARGUMENT", "prepare on a view parent");
      assert.deepEqual(await names(sn), ["act", "vw"], "failed calls left nothing behind");
      await sn.prepare("x");
    },
  },
  {
    name: "commit consumes the key; a missing key, a view, a committed key or a taken name fail",
    async run({ sn }) {
      await expectCode(sn.commit("n", "missing"), "NOT_FOUND", "commit of a missing key");
      await sn.prepare("a");
      await sn.view("v");
      await expectCode(sn.commit("n", "v"), "FAILED_PRECONDITION", "commit of a view");
      await sn.prepare("other");
      await expectCode(sn.commit("other", "a"), "ALREADY_EXISTS", "commit onto an active key");
      assert.equal((await sn.stat("a")).kind, "active", "a failed commit keeps the active key");
      await sn.commit("base", "a");
      await expectCode(sn.stat("a"), "NOT_FOUND", "the committed key is consumed");
      await expectCode(sn.commit("n", "base"), "FAILED_PRECONDITION", "commit of a committed name");
      await sn.prepare("b", "base");
      await expectCode(sn.commit("base", "b"), "ALREADY_EXISTS", "commit onto a committed name");
      await expectCode(sn.commit("v", "b"), "ALREADY_EXISTS", "commit onto a view key");
      await sn.commit("second", "b");
      assert.deepEqual(await names(sn), ["base", "other", "second", "v"]);
    },
  },
  {
    name: "remove fails while children exist, then works bottom-up; a removed key is free again",
    async run({ sn }) {
      await sn.prepare("a");
      await sn.commit("base", "a");
      await sn.prepare("b", "base");
      await sn.commit("mid", "b");
      await sn.view("v", "mid");
      const e = await expectCode(
        sn.remove("base"),
        "FAILED_PRECONDITION",
        "remove of a grandparent",
      );
      assert.match(e.message, /"base"/, "the message names the snapshot");
      await expectCode(sn.remove("mid"), "FAILED_PRECONDITION", "remove of a parent of a view");
      await sn.remove("v");
      await sn.remove("mid");
      await sn.remove("base");
      await expectCode(sn.remove("base"), "NOT_FOUND", "remove of a removed name");
      await expectCode(sn.remove("never"), "NOT_FOUND", "remove of a missing key");
      await sn.prepare("x");
      await sn.remove("x");
      await expectCode(sn.stat("x"), "NOT_FOUND", "stat of a removed key");
      await sn.prepare("x");
      assert.deepEqual(await names(sn), ["x"]);
    },
  },
  {
    name: "mounts repeats prepare's and view's mounts; a view's carry ro; committed fails",
    async run({ sn }) {
      const m = await sn.prepare("a");
      assert.ok(m.length > 0, "prepare returns at least one mount");
      assert.ok(!m.some(isReadOnly), "an active snapshot's mounts are writable");
      assert.deepEqual(await sn.mounts("a"), m);
      await sn.commit("base", "a");
      await expectCode(sn.mounts("base"), "INVALID_ARGUMENT", "mounts of a committed name");
      await expectCode(sn.mounts("missing"), "NOT_FOUND", "mounts of a missing key");
      for (const [key, parent] of [
        ["v", "base"],
        ["empty-view", undefined],
      ] as const) {
        const vm = await sn.view(key, parent);
        assert.ok(vm.length > 0, "view returns at least one mount");
        assert.ok(vm.every(isReadOnly), `every mount of view ${key} carries ro`);
        assert.deepEqual(await sn.mounts(key), vm);
      }
    },
  },
  {
    name: "labels given to prepare, view and commit are reported by stat and walk",
    async run({ sn }) {
      await sn.prepare("a", undefined, { labels: { "org.example/a": "1" } });
      assert.deepEqual((await sn.stat("a")).labels, { "org.example/a": "1" });
      await sn.commit("base", "a", { labels: { "org.example/b": "2" } });
      assert.deepEqual((await sn.stat("base")).labels, {
        "org.example/a": "1",
        "org.example/b": "2",
      });
      await sn.view("v", "base", { labels: { z: "3" } });
      await sn.prepare("plain", "base");
      const all = await walked(sn);
      assert.deepEqual(all.get("v")?.labels, { z: "3" });
      assert.deepEqual(all.get("plain")?.labels, {});
    },
  },
  {
    name: "an aborted signal rejects with its reason and leaves the store as it was",
    async run({ sn }) {
      const ac = new AbortController();
      const reason = new Error("stop");
      ac.abort(reason);
      const { signal } = ac;
      await assert.rejects(sn.prepare("a", undefined, { signal }), (e) => e === reason);
      await expectCode(sn.stat("a"), "NOT_FOUND", "an aborted prepare leaves nothing");
      await sn.prepare("b");
      await assert.rejects(sn.commit("n", "b", { signal }), (e) => e === reason);
      assert.equal((await sn.stat("b")).kind, "active", "an aborted commit keeps the key");
      await expectCode(sn.stat("n"), "NOT_FOUND", "an aborted commit makes no name");
      await assert.rejects(sn.remove("b", { signal }), (e) => e === reason);
      assert.equal((await sn.stat("b")).kind, "active", "an aborted remove keeps the key");
    },
  },
  {
    name: "a second instance on the same root sees and changes the same snapshots",
    async run({ sn, reopen }) {
      await sn.prepare("a");
      await sn.commit("base", "a");
      const other = (await reopen()).snapshotter;
      assert.equal((await other.stat("base")).kind, "committed");
      await other.prepare("b", "base");
      assert.deepEqual(
        [(await sn.stat("b")).kind, (await sn.stat("b")).parent],
        ["active", "base"],
      );
      await expectCode(sn.prepare("b"), "ALREADY_EXISTS", "a key taken by the other instance");
      await expectCode(
        sn.remove("base"),
        "FAILED_PRECONDITION",
        "a child made by the other instance",
      );
      await sn.remove("b");
      await expectCode(other.stat("b"), "NOT_FOUND", "a removal made by the first instance");
    },
  },
  {
    name: "close is idempotent",
    async run({ sn }) {
      await sn.prepare("a");
      await sn.close();
      await sn.close();
    },
  },
  {
    name: "verify (when the driver has it) finds nothing wrong through prepare, view, commit and remove",
    async run({ sn }) {
      if (!sn.verify) return; // optional: nothing to check
      assert.deepEqual(await sn.verify(), [], "verify of an empty root");
      await sn.prepare("a");
      await sn.commit("base", "a");
      await sn.prepare("b", "base");
      await sn.view("v", "base");
      await sn.view("e");
      assert.deepEqual(await sn.verify(), [], "verify with active, view and committed snapshots");
      await sn.remove("v");
      await sn.remove("b");
      assert.deepEqual(await sn.verify(), [], "verify after removals");
    },
  },
];
