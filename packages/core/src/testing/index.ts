/**
 * `@strata/core/testing`: the conformance kit for storage drivers. A driver package's test
 * file calls {@link snapshotterSuite} and {@link differSuite} with its runner's `it` and a
 * {@link HarnessFactory}; the helpers below are exported for driver-specific cases.
 *
 * The factory gets a {@link HarnessContext} per test (a fresh empty `root` for the driver, a
 * `storeRoot` with a `contentStore`, and a `mountManager`) and returns a {@link Harness}:
 * the `snapshotter`, the `differ` (needed by the differ suite), optionally its own
 * `mountManager`/`contentStore`, and a `cleanup` the kit calls after the test. The kit
 * mounts every tree it reads or writes through the mount manager (real mounts), unmounts
 * whatever a failing case left mounted, and removes the test's directories.
 *
 * @example
 * ```ts
 * import { NaiveDiffer } from "@strata/core";
 * import { differSuite, type HarnessFactory, snapshotterSuite } from "@strata/core/testing";
 * import { describe, it } from "vitest";
 *
 * const factory: HarnessFactory = async ({ root, contentStore, mountManager }) => {
 *   const snapshotter = new MySnapshotter(root);
 *   const differ = new NaiveDiffer(contentStore, mountManager);
 *   return { snapshotter, differ, cleanup: () => snapshotter.close() };
 * };
 * describe("my driver: snapshotter", () => snapshotterSuite(it, factory));
 * describe("my driver: differ", () => differSuite(it, factory));
 * ```
 */

export { exists, expectCode, expectErrno } from "./assertions.js";
export { ReferenceTree, renameInTree, type TreeChange, writeAt } from "./change-helpers.js";
export { changeEverything } from "./differ-cases.js";
export { differSuite, differSuiteCases } from "./differ-suite.js";
export {
  applyFixture,
  BASE_LAYER,
  FIXTURE_MTIME,
  type FixtureEntry,
  filesFixture,
  patternBytes,
} from "./fixtures.js";
export type {
  CaseEnv,
  Harness,
  HarnessContext,
  HarnessFactory,
  SuiteCase,
  SuiteOptions,
  TestRunner,
} from "./harness.js";
export { registerCases } from "./harness.js";
export {
  buildLayerTar,
  cleanTarName,
  type LayerTarEntry,
  type LayerTarHeader,
  readLayerTar,
  storeLayer,
} from "./layer-tar.js";
export { privilegeGap } from "./privileges.js";
export { snapshotterCases, snapshotterSuite } from "./snapshotter-suite.js";
export {
  assertTreesEqual,
  type CompareOptions,
  captureTree,
  compareTrees,
  formatTree,
  type Tree,
  type TreeEntry,
  type TreeEntryType,
} from "./tree.js";
