import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  AlreadyExistsError,
  MountManager,
  NaiveDiffer,
  PROBE_CACHE_FILE,
  rootContainer,
  Tokens,
} from "@strata/core";
import {
  differSuite,
  type HarnessFactory,
  privilegeGap,
  snapshotterSuite,
} from "@strata/core/testing";
import { describe, expect, it } from "vitest";
import { AufsDiffer } from "./aufs-differ.js";
import { aufsDriver } from "./aufs-driver.js";
import { probeAufs } from "./aufs-probe.js";
import { AufsSnapshotter } from "./aufs-snapshotter.js";

function factory(native: boolean): HarnessFactory {
  return async ({ root, contentStore, mountManager }) => {
    const snapshotter = new AufsSnapshotter(root);
    mountManager.addHandler(snapshotter.mountHandler);
    const naive = new NaiveDiffer(contentStore, mountManager);
    return {
      snapshotter,
      differ: native ? new AufsDiffer(contentStore, naive) : naive,
      cleanup: () => snapshotter.close(),
    };
  };
}

// Every snapshot with a parent is a FUSE mount served by a root helper: every case needs root.
describe("aufs: snapshotter conformance", () =>
  snapshotterSuite(it, factory(true), { requiresRoot: true }));
describe("aufs: differ conformance (native differ)", () =>
  differSuite(it, factory(true), { requiresRoot: true }));
describe("aufs: differ conformance (naive differ over aufs mounts)", () =>
  differSuite(it, factory(false), { requiresRoot: true }));

// The probe mounts a real union: it needs root with mount rights (under CI it must run).
const gap = privilegeGap();
const asRoot = gap && process.env.CI !== "true" ? it.skip : it;

describe(`aufs: driver module${gap ? ` [needs root with mount rights: ${gap}]` : ""}`, () => {
  asRoot(
    "probes this machine as usable, and registers its services once per container",
    async () => {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-aufs-driver-"));
      try {
        const ctx = { name: "aufs", storeRoot: root, root: path.join(root, "aufs"), options: {} };
        await aufsDriver.probe(ctx);
        expect(await fs.readdir(ctx.root)).not.toContainEqual(expect.stringMatching(/^probe-/));
        const c = rootContainer.createChildContainer();
        c.registerInstance(Tokens.StoreRoot, path.join(root, "store"));
        aufsDriver.register(c, ctx);
        const sn = c.resolve(Tokens.Snapshotter);
        expect(sn).toBeInstanceOf(AufsSnapshotter);
        expect(c.resolve(Tokens.Differ)).toBeInstanceOf(AufsDiffer);
        expect(c.resolveAll(Tokens.MountHandler).map((h) => h.type)).toEqual(["fuse.aufs"]);
        expect(c.resolve(MountManager)).toBeInstanceOf(MountManager);
        expect(() => aufsDriver.register(c, ctx)).toThrow(AlreadyExistsError);
        await sn.close();
      } finally {
        await fs.rm(root, { recursive: true, force: true });
      }
    },
  );

  asRoot(
    "remembers a passed probe in its root; a changed kernel or boot probes again",
    async () => {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-aufs-probe-"));
      try {
        const first = await probeAufs(root, { cache: true });
        const file = path.join(root, PROBE_CACHE_FILE);
        const saved = JSON.parse(await fs.readFile(file, "utf8"));
        expect(saved).toEqual({
          fingerprint: expect.objectContaining({
            kernel: os.release(),
            backingFilesystem: first.backingFilesystem,
            helper: expect.stringMatching(/^\d+:[\d.]+$/),
          }),
          result: first,
        });
        // A remembered verdict is used as it is, without a test mount (a marked one shows it).
        const marked = { backingFilesystem: "remembered" };
        await fs.writeFile(file, JSON.stringify({ ...saved, result: marked }));
        expect(await probeAufs(root, { cache: true })).toEqual(marked);
        expect(await probeAufs(root)).toEqual(first); // no cache asked: a real probe
        for (const stale of [{ kernel: "0.0.0" }, { boot: "another-boot" }, { helper: "1:2" }]) {
          await fs.writeFile(
            file,
            JSON.stringify({ fingerprint: { ...saved.fingerprint, ...stale }, result: marked }),
          );
          expect(await probeAufs(root, { cache: true })).toEqual(first);
          expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual(saved);
        }
      } finally {
        await fs.rm(root, { recursive: true, force: true });
      }
    },
  );
});
