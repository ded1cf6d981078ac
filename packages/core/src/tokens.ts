import type { InjectionToken } from "tsyringe";
import type { Differ } from "./diff/differ.js";
import type { DriverContext } from "./driver/driver-module.js";
import type { MountHandler } from "./mount/mount.js";
import type { RegistryOptions } from "./registry/registry-options.js";
import type { Snapshotter } from "./snapshots/snapshotter.js";

/**
 * Injection tokens for the interfaces core's services depend on (credo-ts's
 * `InjectionSymbols`). Interfaces are injected by token, concrete classes by class.
 * `Symbol.for` keeps the tokens identical across copies of the module.
 */
export const Tokens = {
  /** The selected driver's snapshotter. */
  Snapshotter: Symbol.for("@strata/core:Snapshotter") as InjectionToken<Snapshotter>,
  /** The differ in use: the driver's native one when it registered one, else the naive one. */
  Differ: Symbol.for("@strata/core:Differ") as InjectionToken<Differ>,
  /** Mount handlers for custom mount types; collected with `injectAll`. */
  MountHandler: Symbol.for("@strata/core:MountHandler") as InjectionToken<MountHandler>,
  /** Absolute path of the store root (`/var/lib/strata` or `--root`). */
  StoreRoot: Symbol.for("@strata/core:StoreRoot") as InjectionToken<string>,
  /** The selected driver's context (name, root, options). */
  DriverContext: Symbol.for("@strata/core:DriverContext") as InjectionToken<DriverContext>,
  /** How to reach registries: config dir, insecure registries, docker.io mirrors. */
  RegistryOptions: Symbol.for("@strata/core:RegistryOptions") as InjectionToken<RegistryOptions>,
} as const;
