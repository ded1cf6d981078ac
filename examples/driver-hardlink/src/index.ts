/**
 * `strata-driver-hardlink`: an example third-party storage driver for strata. Active
 * snapshots are private copies; committed snapshots hardlink the files they share with
 * their parent. strata loads the named export `driver` (the default export is the same).
 */

export { driver, driver as default } from "./hardlink-driver.js";
export { HardlinkSnapshotter } from "./hardlink-snapshotter.js";
export { applyLinks, type LinkPlan, planLinks } from "./link-plan.js";
