import { type HarnessFactory, snapshotterSuite } from "@strata/core/testing";
import { describe, it } from "vitest";
import { VfsSnapshotter } from "./vfs-snapshotter.js";

const factory: HarnessFactory = async ({ root }) => {
  const snapshotter = new VfsSnapshotter(root);
  return { snapshotter, cleanup: () => snapshotter.close() };
};

describe("vfs: snapshotter conformance", () => snapshotterSuite(it, factory));
