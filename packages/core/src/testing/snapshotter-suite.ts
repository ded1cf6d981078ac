import { contentCases } from "./content-cases.js";
import {
  type HarnessFactory,
  registerCases,
  type SuiteCase,
  type SuiteOptions,
  type TestRunner,
} from "./harness.js";
import { layeringCases } from "./layering-cases.js";
import { lifecycleCases } from "./lifecycle-cases.js";

/** Every case of {@link snapshotterSuite}, in registration order. */
export const snapshotterCases: readonly SuiteCase[] = [
  ...lifecycleCases,
  ...contentCases,
  ...layeringCases,
];

/**
 * Register the snapshotter conformance cases with the test runner (containerd's
 * `SnapshotterSuite`): lifecycle rules and errors, stat/walk/labels/usage, and what
 * snapshots hold when mounted through core's `MountManager` (a rich base layer in a child,
 * isolation, read-only views, deletions and opaque directories, renames, a 128-layer
 * chain, concurrent use). Each case gets a fresh root from `factory`.
 *
 * Cases that mount need root with mount rights; without them they are registered as
 * skipped with the reason in their name, or, when `options.ci` (default `CI=true`), as
 * failures.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { snapshotterSuite } from "@strata/core/testing";
 *
 * describe("vfs", () => {
 *   snapshotterSuite(it, async ({ root }) => {
 *     const snapshotter = new VfsSnapshotter(root);
 *     return { snapshotter, cleanup: () => snapshotter.close() };
 *   });
 * });
 * ```
 */
export function snapshotterSuite(
  it: TestRunner,
  factory: HarnessFactory,
  options: SuiteOptions = {},
): void {
  registerCases(it, factory, options, snapshotterCases);
}
