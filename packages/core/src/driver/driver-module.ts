import type { DependencyContainer, InjectionToken } from "tsyringe";
import { AlreadyExistsError } from "../errors.js";

/** Version of the driver contract this build of core implements. Drivers declare theirs. */
export const DRIVER_CONTRACT_VERSION = 1;

/** What a driver module is given when it is probed and registered. */
export interface DriverContext {
  /** The driver's name. */
  name: string;
  /** The store root shared by all drivers (`/var/lib/strata`). */
  storeRoot: string;
  /** The driver's own directory inside the store, `<storeRoot>/<name>`; created by core. */
  root: string;
  /** Driver options (`--storage-opt key=value`). */
  options: Record<string, string>;
}

/**
 * A storage driver package's entry point (credo-ts style module): its name, a probe that
 * says whether it can work here, and `register`, which binds its services into the child
 * container the CLI hands it.
 *
 * `register` must bind `Tokens.Snapshotter`; it may bind `Tokens.Differ` (a native differ)
 * and add `Tokens.MountHandler`s. It never touches the global container, and it throws
 * `AlreadyExistsError` when `Tokens.Snapshotter` is already bound in the given container.
 *
 * @example
 * ```ts
 * export const vfsDriver: DriverModule = {
 *   name: "vfs", contractVersion: DRIVER_CONTRACT_VERSION, priority: 300,
 *   async probe() {},
 *   register(container, ctx) {
 *     assertSlotFree(container, Tokens.Snapshotter, "vfs");
 *     container.register(Tokens.Snapshotter, { useValue: new VfsSnapshotter(ctx.root) });
 *   },
 * };
 * ```
 */
export interface DriverModule {
  /** Name users give to `--storage-driver`. */
  readonly name: string;
  /** The contract version the driver was written against ({@link DRIVER_CONTRACT_VERSION}). */
  readonly contractVersion: number;
  /** Lower is tried first during auto-selection (overlay 100, aufs 200, vfs 300). */
  readonly priority: number;
  /**
   * Check that the driver can work on this machine with this root.
   * @throws NotSupportedError with the reason when it cannot.
   */
  probe(ctx: DriverContext): Promise<void>;
  /** Bind the driver's services into `container`. */
  register(container: DependencyContainer, ctx: DriverContext): void;
}

/**
 * Throw `AlreadyExistsError` when `token` is already bound in `container` itself: what a
 * driver's `register` calls before binding its snapshotter (credo's module rule: a slot
 * is filled once).
 */
export function assertSlotFree(
  container: DependencyContainer,
  token: InjectionToken<unknown>,
  driver: string,
): void {
  if (container.isRegistered(token, false)) {
    throw new AlreadyExistsError(
      `driver "${driver}": ${String(token.toString())} is already registered in this container`,
    );
  }
}
