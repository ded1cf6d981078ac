import { NaiveDiffer } from "@strata/core";
import { differSuite, type HarnessFactory, snapshotterSuite } from "@strata/core/testing";
import { describe, it } from "vitest";
import { AufsDiffer } from "./aufs-differ.js";
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
