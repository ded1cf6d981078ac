/**
 * The composition root: the only place in strata that creates a DI container and decides
 * which implementations back core's tokens (STYLE §8).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import {
  BuildCache,
  Builder,
  BuildWorkspace,
  ContainerFilesystem,
  ContainerRunner,
  ContainerService,
  ContainerStore,
  ContentStore,
  type DependencyContainer,
  type DriverContext,
  type DriverModule,
  defaultConfigDir,
  ImageArchiver,
  ImagePuller,
  ImagePusher,
  ImageStore,
  LAST_DRIVER_SETTING,
  LayerUnpacker,
  MetadataStore,
  MountManager,
  NaiveDiffer,
  RegistryClient,
  RegistryMetadata,
  type RegistryOptions,
  rootContainer,
  StoreService,
  selectDriver,
  Tokens,
} from "@strata/core";
import {
  type DriverCatalog,
  findDrivers,
  otherRememberedPlugins,
  rememberPlugin,
} from "./driver-catalog.js";
import type { DriverPlugin } from "./driver-plugins.js";

/** What the container is built from: the global options that concern the store. */
export interface CompositionOptions {
  /** Store root (made absolute here). */
  root: string;
  /**
   * `--storage-driver`: a driver name, or a driver package's name or path (a plugin, see
   * driver-plugins.ts); unset: the store's last driver, else the first that works here.
   */
  storageDriver?: string;
  /** Where a package given as `storageDriver` resolves from; default `process.cwd()`. */
  cwd?: string;
  /** `--storage-opt` values for the driver. */
  storageOpts?: Record<string, string>;
  /**
   * Driver modules to choose from; default {@link builtinDrivers} plus the plugins of the
   * store's config file, of `storageDriver` and those the store remembers.
   */
  drivers?: readonly DriverModule[];
  /** How to reach registries (`--config`, `--insecure-registry`, `--registry-mirror`). */
  registry?: RegistryOptions;
  /**
   * Remember the driver as the one this store used last (default true). False for the
   * compositions strata makes on its own account: a container's supervisor, or a command
   * reaching a container on its own driver.
   */
  recordDriverUse?: boolean;
}

/** A built container and what was chosen for it. */
export interface Composition {
  container: DependencyContainer;
  driver: DriverModule;
  driverContext: DriverContext;
  /** Every driver module that was available to choose from. */
  drivers: readonly DriverModule[];
  /** The plugins among {@link drivers}, with their packages. */
  plugins: readonly DriverPlugin[];
  /**
   * Every driver strata found for this store: {@link drivers} plus the plugins the store
   * remembers that were not loaded (loaded now), with each plugin's package name.
   */
  allDrivers(): Promise<{ module: DriverModule; packageName?: string }[]>;
  /** Release what the container's services hold (the database handle). Idempotent. */
  dispose(): Promise<void>;
}

/**
 * The driver modules strata ships, by priority. Imported lazily: a driver package may
 * load native code (FUSE) that commands without a store never need.
 */
export async function builtinDrivers(): Promise<DriverModule[]> {
  const [{ overlayDriver }, { aufsDriver }, { vfsDriver }] = await Promise.all([
    import("@strata/driver-overlay"),
    import("@strata/driver-aufs"),
    import("@strata/driver-vfs"),
  ]);
  return [overlayDriver, aufsDriver, vfsDriver].sort((a, b) => a.priority - b.priority);
}

/**
 * Build the container for one invocation: a child of tsyringe's root container holding
 * the store root, the driver core's `selectDriver` picks (requested, else the one this
 * store used last, else the first that works here) with its services, and core's naive
 * differ unless the driver bound a native one. Core's services are resolved by class.
 *
 * @throws InvalidArgumentError for an unknown `--storage-driver` (listing the known ones).
 * @throws NotSupportedError when the requested driver (or every driver) cannot work here.
 */
export async function createContainer(opts: CompositionOptions): Promise<Composition> {
  const storeRoot = path.resolve(opts.root);

  const child = rootContainer.createChildContainer();
  child.register(Tokens.StoreRoot, { useValue: storeRoot });
  // Core's services, one instance each per container: they share the metadata database
  // handle (one SQLite connection per process) instead of opening one per resolution.
  child.registerSingleton(MetadataStore);
  child.registerSingleton(ContentStore);
  child.registerSingleton(MountManager);
  child.registerSingleton(LayerUnpacker);
  child.registerSingleton(ImageStore);
  child.registerSingleton(StoreService);
  child.registerSingleton(ContainerStore);
  child.registerSingleton(ContainerRunner);
  child.registerSingleton(ContainerService);
  child.registerSingleton(ContainerFilesystem);
  child.registerSingleton(ImageArchiver);
  registerRegistry(child, opts.registry);
  child.registerSingleton(RegistryMetadata);
  child.registerSingleton(ImagePuller);
  child.registerSingleton(ImagePusher);
  child.registerSingleton(BuildCache);
  child.registerSingleton(BuildWorkspace);
  child.registerSingleton(Builder);
  const meta = child.resolve(MetadataStore);
  try {
    const catalog: DriverCatalog = opts.drivers
      ? {
          modules: [...opts.drivers],
          plugins: [],
          ...(opts.storageDriver !== undefined ? { requested: opts.storageDriver } : {}),
        }
      : await findDrivers({
          builtins: await builtinDrivers(),
          storeRoot,
          meta,
          ...(opts.storageDriver !== undefined ? { requested: opts.storageDriver } : {}),
          ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
          ...lastUsed(meta),
        });
    const { module, context } = await selectDriver({
      modules: catalog.modules,
      storeRoot,
      ...(catalog.requested !== undefined ? { requested: catalog.requested } : {}),
      ...lastUsed(meta),
      options: opts.storageOpts ?? {},
    });
    await fs.mkdir(context.root, { recursive: true, mode: 0o700 });
    child.register(Tokens.DriverContext, { useValue: context });
    module.register(child, context);
    if (!child.isRegistered(Tokens.Differ)) {
      let differ: NaiveDiffer | undefined;
      child.register(Tokens.Differ, { useFactory: (c) => (differ ??= c.resolve(NaiveDiffer)) });
    }
    const store = child.resolve(StoreService);
    if (opts.recordDriverUse !== false) store.recordDriverUse();
    const plugin = catalog.plugins.find((p) => p.module === module);
    if (plugin) rememberPlugin(meta, plugin);
    await store.recover();

    let disposed = false;
    return {
      container: child,
      driver: module,
      driverContext: context,
      drivers: catalog.modules,
      plugins: catalog.plugins,
      async allDrivers() {
        const plugins = [
          ...catalog.plugins,
          ...(opts.drivers ? [] : await otherRememberedPlugins(meta, catalog.modules)),
        ];
        const modules = [...catalog.modules, ...plugins.map((p) => p.module)];
        return [...new Set(modules)].map((module) => {
          const plugin = plugins.find((p) => p.module === module);
          return plugin ? { module, packageName: plugin.packageName } : { module };
        });
      },
      async dispose() {
        if (disposed) return;
        disposed = true;
        try {
          if (child.isRegistered(Tokens.Snapshotter))
            await child.resolve(Tokens.Snapshotter).close();
        } finally {
          meta.close();
        }
      },
    };
  } catch (err) {
    meta.close();
    throw err;
  }
}

/**
 * A container with the registry client alone, for commands that need no store (`login`,
 * `logout`, `search`): no database is opened and no driver is selected.
 */
export function createRegistryContainer(registry?: RegistryOptions): DependencyContainer {
  const child = rootContainer.createChildContainer();
  registerRegistry(child, registry);
  return child;
}

function registerRegistry(c: DependencyContainer, registry: RegistryOptions | undefined): void {
  c.register(Tokens.RegistryOptions, { useValue: registry ?? { configDir: defaultConfigDir() } });
  c.registerSingleton(RegistryClient);
}

function lastUsed(meta: MetadataStore): { lastUsed?: string } {
  const name = meta.getSetting(LAST_DRIVER_SETTING);
  return name === undefined ? {} : { lastUsed: name };
}
