import type { DependencyContainer, DriverModule } from "@strata/core";
import type { BaseContext } from "clipanion";
import type { GlobalOptions } from "./global-options.js";

/**
 * What every strata command gets as `this.context`: the standard streams, the global
 * options, and the composition root's container, built lazily so that commands which
 * need no store (`version`, `--help`) never open one or load a driver.
 */
export interface StrataContext extends BaseContext {
  /** Options given before the command (`--root`, `--storage-driver`, …). */
  globals: GlobalOptions;
  /**
   * The DI container with the selected storage driver registered; built on first call
   * (driver selection happens then) and shared by later calls.
   */
  container(): Promise<DependencyContainer>;
  /** The name of the selected storage driver; selects it when not done yet. */
  driverName(): Promise<string>;
  /** Every built-in storage driver module, by priority (loaded on first call). */
  drivers(): Promise<DriverModule[]>;
  /**
   * Every storage driver the store could choose from (built-in and plugins, see
   * driver-plugins.ts) with the package of each plugin; builds the container first.
   */
  storeDrivers(): Promise<{ module: DriverModule; packageName?: string }[]>;
  /**
   * A container with the registry client only (no store opened, no driver selected), for
   * `login`, `logout` and `search`.
   */
  registry(): Promise<DependencyContainer>;
}
