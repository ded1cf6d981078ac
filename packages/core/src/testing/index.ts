/**
 * `@strata/core/testing`: the conformance kit for storage drivers. A driver package's test
 * file calls {@link snapshotterSuite} and {@link differSuite} with its runner's `it` and a
 * factory; the helpers below are exported for driver-specific cases.
 */

export { exists, expectCode, expectErrno } from "./assertions.js";
export { ReferenceTree, renameInTree, type TreeChange, writeAt } from "./change-helpers.js";
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
