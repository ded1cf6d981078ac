import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  AlreadyExistsError,
  ContentStore,
  MountManager,
  NaiveDiffer,
  PROBE_CACHE_FILE,
  rootContainer,
  Tokens,
} from "@strata/core";
import {
  applyFixture,
  assertTreesEqual,
  BASE_LAYER,
  captureTree,
  changeEverything,
  differSuite,
  type HarnessFactory,
  readLayerTar,
  snapshotterSuite,
} from "@strata/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OverlayDiffer } from "./overlay-differ.js";
import { overlayDriver } from "./overlay-driver.js";
import { probeOverlay } from "./overlay-probe.js";
import { OverlaySnapshotter } from "./overlay-snapshotter.js";

const nativeFactory: HarnessFactory = async ({ root, contentStore, mountManager }) => {
  const snapshotter = new OverlaySnapshotter(root);
  const differ = new OverlayDiffer(contentStore, new NaiveDiffer(contentStore, mountManager));
  return { snapshotter, differ, cleanup: () => snapshotter.close() };
};
const naiveFactory: HarnessFactory = async ({ root, contentStore, mountManager }) => {
  const snapshotter = new OverlaySnapshotter(root);
  return {
    snapshotter,
    differ: new NaiveDiffer(contentStore, mountManager),
    cleanup: () => snapshotter.close(),
  };
};

// Overlay snapshots are kernel mounts: every case needs root.
describe("overlay: snapshotter conformance", () =>
  snapshotterSuite(it, nativeFactory, { requiresRoot: true }));
describe("overlay: differ conformance (native differ)", () =>
  differSuite(it, nativeFactory, { requiresRoot: true }));
describe("overlay: differ conformance (naive differ over overlay mounts)", () =>
  differSuite(it, naiveFactory, { requiresRoot: true }));

describe("overlay: driver specifics", () => {
  let root: string;
  let store: ContentStore;
  let mm: MountManager;
  let sn: OverlaySnapshotter;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-overlay-"));
    store = new ContentStore(path.join(root, "store"));
    mm = new MountManager();
    sn = new OverlaySnapshotter(path.join(root, "overlay"));
  });
  afterEach(async () => {
    await sn.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("probes this kernel as usable with native diff, and registers once per container", async () => {
    const result = await probeOverlay(path.join(root, "overlay"));
    expect(result).toMatchObject({ nativeDiff: true });
    const ctx = { name: "overlay", storeRoot: root, root: path.join(root, "overlay"), options: {} };
    await overlayDriver.probe(ctx);
    const c = rootContainer.createChildContainer();
    c.registerInstance(Tokens.StoreRoot, path.join(root, "store"));
    overlayDriver.register(c, ctx);
    expect(c.resolve(Tokens.Snapshotter)).toBeInstanceOf(OverlaySnapshotter);
    expect(c.resolve(Tokens.Differ)).toBeInstanceOf(OverlayDiffer);
    expect(() => overlayDriver.register(c, ctx)).toThrow(AlreadyExistsError);
    await c.resolve(Tokens.Snapshotter).close();
    expect(await fs.readdir(path.join(root, "overlay"))).not.toContainEqual(
      expect.stringMatching(/^probe-/),
    );
  });

  it("remembers a passed probe in its root; a changed kernel or boot probes again", async () => {
    const dir = path.join(root, "overlay");
    const first = await probeOverlay(dir, { cache: true });
    const file = path.join(dir, PROBE_CACHE_FILE);
    const saved = JSON.parse(await fs.readFile(file, "utf8"));
    expect(saved).toEqual({
      fingerprint: expect.objectContaining({
        kernel: os.release(),
        backingFilesystem: first.backingFilesystem,
      }),
      result: first,
    });
    // A remembered verdict is used as it is, without a test mount (a marked one shows it).
    const marked = { ...first, nativeDiffReason: "remembered" };
    await fs.writeFile(file, JSON.stringify({ ...saved, result: marked }));
    expect(await probeOverlay(dir, { cache: true })).toEqual(marked);
    expect(await probeOverlay(dir)).toEqual(first); // no cache asked: a real probe
    // Another kernel (or boot) wrote it: probe for real, and remember this one.
    for (const stale of [{ kernel: "0.0.0" }, { boot: "another-boot" }]) {
      await fs.writeFile(
        file,
        JSON.stringify({ fingerprint: { ...saved.fingerprint, ...stale }, result: marked }),
      );
      expect(await probeOverlay(dir, { cache: true })).toEqual(first);
      expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual(saved);
    }
  });

  it("stores whiteouts as 0/0 char devices and opaque dirs as an xattr, and diffs them back", async () => {
    const base = await sn.prepare("base-a");
    await mm.withTempMount(base, async (dir) => {
      await fs.mkdir(path.join(dir, "d"));
      await fs.writeFile(path.join(dir, "d", "old"), "old");
      await fs.writeFile(path.join(dir, "gone"), "x");
    });
    await sn.commit("base", "base-a");
    const upper = await sn.prepare("c", "base");
    await mm.withTempMount(upper, async (dir) => {
      await fs.rm(path.join(dir, "gone"));
      await fs.rm(path.join(dir, "d"), { recursive: true });
      await fs.mkdir(path.join(dir, "d"));
      await fs.writeFile(path.join(dir, "d", "new"), "new");
    });
    const differ = new OverlayDiffer(store, new NaiveDiffer(store, mm));
    const lower = await sn.view("v", "base");
    const desc = await differ.diff(lower, upper);
    const tar = await fs.readFile(store.blobPath(desc.digest));
    const names = listTarNames(tar);
    expect(names).toEqual(["d/", "d/.wh..wh..opq", "d/new", ".wh.gone"].sort(byTarOrder(names)));

    // Apply that layer natively into a fresh child: the upper holds overlay's own format.
    const child = await sn.prepare("c2", "base");
    await differ.apply(desc, child);
    const upperDir = child[0]!.options.find((o) => o.startsWith("upperdir="))!.slice(9);
    const wh = await fs.lstat(path.join(upperDir, "gone"));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    const { readXattrs } = await import("@strata/core");
    expect(readXattrs(path.join(upperDir, "d"))?.get("trusted.overlay.opaque")?.toString()).toBe(
      "y",
    );
    // And the two mounted trees are the same.
    await mm.withTempMount(upper, (a) =>
      mm.withTempMount(child, async (b) =>
        assertTreesEqual(await captureTree(a), await captureTree(b)),
      ),
    );
  });

  it("native and naive differs agree on the kit's changeset: same entries, contents and effect", async () => {
    const base = await sn.prepare("base-a");
    await mm.withTempMount(base, (dir) => applyFixture(dir, BASE_LAYER));
    await sn.commit("base", "base-a");
    const upper = await sn.prepare("upper", "base");
    await mm.withTempMount(upper, changeEverything);
    const lower = await sn.view("lower", "base");
    const naive = new NaiveDiffer(store, mm);
    const native = new OverlayDiffer(store, naive);
    const a = await native.diff(lower, upper);
    const b = await naive.diff(lower, upper);
    const entries = async (digest: string) => {
      const headers = await readLayerTar(store, digest);
      const out = new Map<string, string>();
      for (const h of headers) {
        if (/(^|\/)\.wh\./.test(h.name)) continue; // whiteouts: compared by their effect below
        out.set(h.name, JSON.stringify({ ...h, pax: Object.keys(h.pax).sort() }));
      }
      return out;
    };
    const [na, nb] = [await entries(a.digest), await entries(b.digest)];
    expect([...na.keys()].sort()).toEqual([...nb.keys()].sort());
    for (const [name, h] of na) expect(h, name).toBe(nb.get(name));
    // Each layer applied onto a fresh child of base gives the upper tree.
    const want = await mm.withTempMount(upper, captureTree);
    for (const desc of [a, b]) {
      const key = `check-${desc.digest.slice(7, 15)}`;
      const target = await sn.prepare(key, "base");
      await native.apply(desc, target);
      assertTreesEqual(want, await mm.withTempMount(target, captureTree));
      await sn.remove(key);
    }
    // Native diff reads the upper dir only: overlay's deletion of usr/lib's content is one
    // opaque marker, where the naive walk writes a whiteout per deleted entry.
    const names = (await readLayerTar(store, a.digest)).map((h) => h.name);
    expect(names).toContain("usr/lib/.wh..wh..opq");
  });

  it("falls back to the naive differ when lower is not the upper's own stack", async () => {
    const a = await sn.prepare("a");
    await sn.commit("l1", "a");
    const b = await sn.prepare("b", "l1");
    await mm.withTempMount(b, (dir) => fs.writeFile(path.join(dir, "f"), "f"));
    const differ = new OverlayDiffer(store, new NaiveDiffer(store, mm));
    // Against an empty lower the change set is the whole tree, still just "f".
    const desc = await differ.diff([], b);
    expect(listTarNames(await fs.readFile(store.blobPath(desc.digest)))).toEqual(["f"]);
    void a;
  });

  it("mounts a 128-layer chain with options that fit in a page", async () => {
    let parent: string | undefined;
    for (let i = 0; i < 128; i++) {
      const m = await sn.prepare(`k${i}`, parent);
      await mm.withTempMount(m, (dir) => fs.writeFile(path.join(dir, `f${i}`), String(i)));
      await sn.commit(`layer-${i}`, `k${i}`);
      parent = `layer-${i}`;
    }
    const top = await sn.prepare("top", parent);
    expect(top[0]!.options.join(",").length).toBeGreaterThan(4000); // absolute paths alone would not fit
    await mm.withTempMount(top, async (dir) => {
      expect(await fs.readFile(path.join(dir, "f0"), "utf8")).toBe("0");
      expect(await fs.readFile(path.join(dir, "f127"), "utf8")).toBe("127");
    });
  });

  it("cleans directories that no record owns", async () => {
    await sn.prepare("a");
    await fs.mkdir(path.join(root, "overlay", "snapshots", "9999", "fs"), { recursive: true });
    expect(await sn.cleanup()).toBe(1);
    expect(await fs.readdir(path.join(root, "overlay", "snapshots"))).toEqual(["1"]);
  });
});

/** Entry names of an uncompressed tar, in order. */
function listTarNames(tar: Buffer): string[] {
  const names: string[] = [];
  let off = 0;
  let paxPath: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = Number.parseInt(
      h.subarray(124, 136).toString().replace(/\0.*$/, "").trim() || "0",
      8,
    );
    const type = String.fromCharCode(h[156]!);
    const name = h.subarray(0, 100).toString().replace(/\0.*$/s, "");
    const prefix = h.subarray(345, 500).toString().replace(/\0.*$/s, "");
    if (type === "x") {
      const body = tar.subarray(off + 512, off + 512 + size).toString();
      paxPath = /\d+ path=([^\n]*)\n/.exec(body)?.[1];
    } else {
      names.push(paxPath ?? (prefix ? `${prefix}/${name}` : name));
      paxPath = undefined;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

/** Keep the order the tar has (the assertion is about the set and the opq-after-dir rule). */
function byTarOrder(order: string[]) {
  return (a: string, b: string) => order.indexOf(a) - order.indexOf(b);
}
