/**
 * `@strata/core`: contracts, errors, DI tokens and services shared by every strata package.
 * This barrel is the package's whole public surface (with `@strata/core/testing`).
 */
export * from "./errors.js";
export * from "./di.js";
export * from "./tokens.js";
export * from "./snapshots/snapshotter.js";
export * from "./mount/mount.js";
export * from "./mount/mount-manager.js";
export * from "./diff/differ.js";
export * from "./content/descriptor.js";
export * from "./content/digest.js";
export * from "./content/content-store.js";
export * from "./image/media-types.js";
export * from "./driver/driver-module.js";
export * from "./util/exec.js";
