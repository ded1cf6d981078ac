import { differCases } from "./differ-cases.js";
import {
  type HarnessFactory,
  registerCases,
  type SuiteCase,
  type SuiteOptions,
  type TestRunner,
} from "./harness.js";

/** Every case of {@link differSuite}, in registration order. */
export const differSuiteCases: readonly SuiteCase[] = differCases;

/**
 * Register the differ conformance cases with the test runner: diff then apply reproduces
 * trees exactly (a rich base layer against nothing, and every kind of change against a
 * parent), diff and apply agree on digest and size, the diff is in OCI layer format
 * (whiteouts, hardlinks, PAX xattrs), identical trees diff to an empty layer, and apply
 * honours whiteouts and opaque markers, gunzips, refuses breakouts and missing blobs.
 *
 * The factory must return `differ` (the driver's native differ, or core's naive one
 * built on the context's content store and mount manager). Trees are made with the
 * harness's snapshotter, so the driver's snapshotter and differ are tested together.
 *
 * @example
 * ```ts
 * differSuite(it, async ({ root, contentStore, mountManager }) => {
 *   const snapshotter = new VfsSnapshotter(root);
 *   const differ = new NaiveDiffer(contentStore, mountManager);
 *   return { snapshotter, differ, cleanup: () => snapshotter.close() };
 * });
 * ```
 */
export function differSuite(
  it: TestRunner,
  factory: HarnessFactory,
  options: SuiteOptions = {},
): void {
  registerCases(it, factory, options, differSuiteCases);
}
