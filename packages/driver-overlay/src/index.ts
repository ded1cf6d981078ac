/**
 * `@strata/driver-overlay`: the kernel overlayfs storage driver (docker's overlay2 layout)
 * with a native differ that reads only a snapshot's upper directory.
 */
export { overlayUpperChanges } from "./overlay-changes.js";
export { OverlayDiffer } from "./overlay-differ.js";
export { overlayDriver } from "./overlay-driver.js";
export { type OverlayProbeResult, probeOverlay } from "./overlay-probe.js";
export { OVERLAY_FIXED_OPTIONS, OverlaySnapshotter } from "./overlay-snapshotter.js";
