import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../errors.js";
import { SnapshotMetaStore } from "./snapshot-meta-store.js";

let root: string;
let store: SnapshotMetaStore;
const usage = { size: 10, inodes: 2 };

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "strata-meta-"));
  store = new SnapshotMetaStore(root);
});
afterEach(() => {
  store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("SnapshotMetaStore", () => {
  it("keeps one WAL database file in the root", () => {
    expect(store.file).toBe(path.join(root, "metadata.db"));
    expect(fs.existsSync(store.file)).toBe(true);
    store.create("active", "a");
    expect(fs.readdirSync(root)).toContain("metadata.db-wal");
  });

  it("creates snapshots with fresh ids and a parent chain", () => {
    const a = store.create("active", "a");
    expect(a).toMatchObject({ kind: "active", name: "a", parentIds: [], labels: {} });
    expect(a.parent).toBeUndefined();
    store.commit("base", "a", usage);
    const b = store.create("active", "b", "base");
    store.commit("mid", "b", usage);
    const c = store.create("view", "c", "mid", { labels: { x: "1" } });
    expect(c.kind).toBe("view");
    expect(c.parent).toBe("mid");
    expect(c.parentIds).toEqual([b.id, a.id]);
    expect(c.labels).toEqual({ x: "1" });
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
  });

  it("rejects a taken key, a missing parent and a parent that is not committed", () => {
    store.create("active", "k1");
    expect(() => store.create("active", "k1")).toThrow(AlreadyExistsError);
    expect(() => store.create("view", "k1")).toThrow('snapshot "k1": already exists');
    expect(() => store.create("active", "k2", "nope")).toThrow(NotFoundError);
    expect(() => store.create("active", "k2", "k1")).toThrow(InvalidArgumentError);
    expect(() => store.create("active", "")).toThrow(InvalidArgumentError);
    expect(store.find("k2")).toBeUndefined();
  });

  it("commit consumes the key, keeps the id, stores usage and merges labels", () => {
    const a = store.create("active", "a", undefined, { labels: { keep: "1", over: "a" } });
    const c = store.commit("name", "a", usage, { labels: { over: "b" } });
    expect(c).toMatchObject({ id: a.id, kind: "committed", name: "name", usage });
    expect(c.labels).toEqual({ keep: "1", over: "b" });
    expect(store.find("a")).toBeUndefined();
    expect(() => store.get("a")).toThrow('snapshot "a": not found');
  });

  it("commit fails on a missing key, a view, a committed key and a taken name", () => {
    store.create("active", "a");
    store.create("view", "v");
    store.create("active", "taken");
    expect(() => store.commit("n", "missing", usage)).toThrow(NotFoundError);
    expect(() => store.commit("n", "v", usage)).toThrow(FailedPreconditionError);
    expect(() => store.commit("taken", "a", usage)).toThrow(AlreadyExistsError);
    expect(() => store.commit("a", "a", usage)).toThrow(AlreadyExistsError);
    store.commit("n", "a", usage);
    expect(() => store.commit("n2", "n", usage)).toThrow(FailedPreconditionError);
    expect(store.get("taken").kind).toBe("active");
  });

  it("remove fails while children exist and returns the removed record", () => {
    const a = store.create("active", "a");
    store.commit("base", "a", usage);
    store.create("view", "child", "base");
    expect(() => store.remove("base")).toThrow(FailedPreconditionError);
    expect(() => store.remove("base")).toThrow(/cannot remove/);
    expect(store.remove("child").name).toBe("child");
    expect(store.remove("base").id).toBe(a.id);
    expect(() => store.remove("base")).toThrow(NotFoundError);
    expect(store.ids().size).toBe(0);
  });

  it("never reuses an id", () => {
    const a = store.create("active", "a");
    store.remove("a");
    expect(store.create("active", "a").id).toBeGreaterThan(a.id);
  });

  it("lists and walks with kind and parent filters", async () => {
    store.create("active", "a");
    store.commit("base", "a", usage);
    store.create("active", "x", "base");
    store.create("view", "y", "base");
    store.create("active", "z");
    const names = (f?: Parameters<SnapshotMetaStore["list"]>[0]) =>
      store
        .list(f)
        .map((r) => r.name)
        .sort();
    expect(names()).toEqual(["base", "x", "y", "z"]);
    expect(names({ kinds: ["active"] })).toEqual(["x", "z"]);
    expect(names({ parent: "base" })).toEqual(["x", "y"]);
    expect(names({ parent: "base", kinds: ["view"] })).toEqual(["y"]);
    const seen: string[] = [];
    await store.walk((info) => {
      seen.push(`${info.name}:${info.kind}:${info.parent ?? ""}`);
      expect(info).not.toHaveProperty("id");
    });
    expect(seen.sort()).toEqual(["base:committed:", "x:active:base", "y:view:base", "z:active:"]);
  });

  it("updates labels by merge (empty deletes) or replacement", () => {
    store.create("active", "a", undefined, { labels: { a: "1", b: "2" } });
    expect(store.updateLabels("a", { b: "", c: "3" }).labels).toEqual({ a: "1", c: "3" });
    expect(store.updateLabels("a", { d: "4" }, { replace: true }).labels).toEqual({ d: "4" });
    expect(() => store.updateLabels("nope", {})).toThrow(NotFoundError);
  });

  it("rolls a failed transaction back", () => {
    expect(() =>
      store.transaction(() => {
        store.create("active", "a");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.find("a")).toBeUndefined();
  });

  it("close is idempotent and later calls fail", () => {
    store.close();
    store.close();
    expect(() => store.get("a")).toThrow(FailedPreconditionError);
  });

  it("shares one file between processes that write at once", async () => {
    // The children load the built module, as another strata process would (turbo builds
    // before it tests).
    const here = path.dirname(fileURLToPath(import.meta.url));
    const built = path.resolve(here, "../../dist/snapshots/snapshot-meta-store.js");
    expect(fs.existsSync(built), `${built} missing: build core first`).toBe(true);
    const script = `
      const { SnapshotMetaStore } = await import(${JSON.stringify(built)});
      const s = new SnapshotMetaStore(process.argv[1]);
      const me = process.argv[2];
      let lost = 0;
      for (let i = 0; i < 40; i++) {
        s.create("active", me + "-" + i, "base");
        try { s.create("active", "race-" + i); } catch (e) { if (e.code === "ALREADY_EXISTS") lost++; else throw e; }
      }
      s.close();
      console.log(lost);`;
    store.create("active", "b");
    store.commit("base", "b", usage);
    const procs = [0, 1, 2, 3].map(
      (n) =>
        new Promise<number>((resolve, reject) =>
          execFile(
            process.execPath,
            ["--input-type=module", "-e", script, root, `p${n}`],
            (err, out) => (err ? reject(err) : resolve(Number(out.trim()))),
          ),
        ),
    );
    const lost = await Promise.all(procs);
    // Each race key was won by exactly one process; every process's own keys are there.
    expect(lost.reduce((a, b) => a + b, 0)).toBe(40 * 3);
    expect(store.list({ parent: "base" })).toHaveLength(160);
    expect(store.list({ kinds: ["active"] })).toHaveLength(200);
  });
});
