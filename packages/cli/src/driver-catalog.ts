/**
 * The drivers one invocation can choose from: the built-in ones, the plugins listed in the
 * store's config file, a package given to `--storage-driver`, and plugins this store has
 * used before (remembered in its metadata, so "last used", supervisors and later commands
 * find them by driver name). See driver-plugins.ts for how packages are found and checked.
 */
import {
  type DriverModule,
  InvalidArgumentError,
  isErrorCode,
  type MetadataStore,
} from "@strata/core";
import { configuredDrivers, type DriverPlugin, loadDriverPlugin } from "./driver-plugins.js";

/** Metadata setting holding `{driverName: packageDirectory}` of plugins this store used. */
export const PLUGIN_PACKAGES_SETTING = "driver-packages";

/** What {@link findDrivers} found. */
export interface DriverCatalog {
  /** Every module to choose from: built-in first, then plugins. */
  modules: DriverModule[];
  /** The plugins among them, with their packages. */
  plugins: DriverPlugin[];
  /** The driver name `--storage-driver` resolved to (a package's driver name), if given. */
  requested?: string;
}

/** Inputs of {@link findDrivers}. */
export interface FindDriversOptions {
  builtins: readonly DriverModule[];
  storeRoot: string;
  meta: Pick<MetadataStore, "getSetting">;
  /** `--storage-driver`: a driver name, a package name or a path. */
  requested?: string;
  /** The store's last-used driver name. */
  lastUsed?: string;
  /** Where a package given to `--storage-driver` resolves from (default: process.cwd()). */
  cwd?: string;
}

/** The remembered `{driverName: packageDirectory}` map of a store. */
export function rememberedPlugins(meta: Pick<MetadataStore, "getSetting">): Record<string, string> {
  const raw = meta.getSetting(PLUGIN_PACKAGES_SETTING);
  if (raw === undefined) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Remember `plugin`'s package under its driver name (no write when already so). */
export function rememberPlugin(
  meta: Pick<MetadataStore, "getSetting" | "setSetting">,
  plugin: DriverPlugin,
): void {
  const known = rememberedPlugins(meta);
  if (known[plugin.module.name] === plugin.location) return;
  known[plugin.module.name] = plugin.location;
  meta.setSetting(PLUGIN_PACKAGES_SETTING, JSON.stringify(known));
}

/**
 * Plugins this store remembers that are not among `known`, loaded now (for `info`); a
 * remembered package that is gone or broken is left out.
 */
export async function otherRememberedPlugins(
  meta: Pick<MetadataStore, "getSetting">,
  known: readonly DriverModule[],
): Promise<DriverPlugin[]> {
  const out: DriverPlugin[] = [];
  for (const [name, dir] of Object.entries(rememberedPlugins(meta))) {
    if (known.some((m) => m.name === name)) continue;
    const p = await loadDriverPlugin(dir, "/", "store").catch(() => undefined);
    if (p && !known.some((m) => m.name === p.module.name)) out.push(p);
  }
  return out;
}

/**
 * Collect the drivers to choose from.
 * @throws NotFoundError / InvalidArgumentError / FailedPreconditionError from loading a
 *   configured or requested package (see {@link loadDriverPlugin}); InvalidArgumentError
 *   for an unknown `--storage-driver` that is no installed package either, and for two
 *   drivers with one name.
 */
export async function findDrivers(o: FindDriversOptions): Promise<DriverCatalog> {
  const modules = [...o.builtins];
  const plugins: DriverPlugin[] = [];
  const add = (p: DriverPlugin) => {
    const same = plugins.find((q) => q.module.name === p.module.name);
    if (same?.location === p.location) return;
    if (same || o.builtins.some((b) => b.name === p.module.name)) {
      throw new InvalidArgumentError(
        `storage driver package "${p.packageName}": driver name "${p.module.name}" is already taken by ${same ? `package "${same.packageName}"` : "a built-in driver"}`,
      );
    }
    plugins.push(p);
    modules.push(p.module);
  };
  for (const spec of await configuredDrivers(o.storeRoot)) {
    add(await loadDriverPlugin(spec, o.storeRoot, "config"));
  }
  const remembered = rememberedPlugins(o.meta);
  const known = (name: string) => modules.some((m) => m.name === name);
  const fromStore = async (name: string) => {
    const dir = remembered[name];
    if (dir !== undefined && !known(name)) add(await loadDriverPlugin(dir, "/", "store"));
  };

  let requested: string | undefined;
  if (o.requested !== undefined) {
    requested = o.requested;
    await fromStore(o.requested);
    if (!known(o.requested)) {
      try {
        const p = await loadDriverPlugin(o.requested, o.cwd ?? process.cwd(), "flag");
        add(p);
        requested = p.module.name;
      } catch (err) {
        if (!isErrorCode(err, "NOT_FOUND")) throw err;
        const names = [...new Set([...modules.map((m) => m.name), ...Object.keys(remembered)])];
        names.sort();
        throw new InvalidArgumentError(
          `unknown storage driver "${o.requested}" (available: ${names.join(", ")}); ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
  }
  if (o.lastUsed !== undefined) {
    // A store whose last driver's package is gone falls back to auto-selection.
    await fromStore(o.lastUsed).catch(() => undefined);
  }
  return { modules, plugins, ...(requested !== undefined ? { requested } : {}) };
}
