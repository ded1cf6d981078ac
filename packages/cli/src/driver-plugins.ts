/**
 * Third-party storage drivers ("driver plugins"): npm packages that export a
 * {@link DriverModule}, found by name or path, imported, checked against this build's
 * driver contract, and then used exactly like the built-in drivers.
 *
 * Where a plugin comes from:
 * - `--storage-driver <package-or-path>` (a name that is not a known driver), resolved from
 *   the current directory;
 * - the store's config file, `<root>/config.json`: `{"drivers": ["pkg-or-path", …]}`
 *   (docker's daemon.json is the model), resolved from the config file's directory;
 * - the store's memory: a plugin selected by package once is remembered in the store's
 *   metadata (setting `driver-package.<name>` → the package's directory), so that the
 *   store's "last used driver", a container's supervisor and later commands find it by its
 *   driver name without the package being named again.
 *
 * How a bare package name is resolved, first hit wins: `node_modules` of the base
 * directory and its ancestors (node's own rule), then of strata's install directory and its
 * ancestors (a plugin installed next to strata, globally or locally), then each `NODE_PATH`
 * entry, then npm's global `node_modules` (`<node prefix>/lib/node_modules`). A path
 * (`/…`, `./…`, `../…`) names a package directory or a module file.
 */
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import { register } from "node:module";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  DRIVER_CONTRACT_VERSION,
  type DriverModule,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "@strata/core";

/** A driver module loaded from a package, with where it came from. */
export interface DriverPlugin {
  module: DriverModule;
  /** The package's name from its package.json (or the module file's path). */
  packageName: string;
  /** The package's directory (or the module file). */
  location: string;
  /** How strata learned of it. */
  origin: "flag" | "config" | "store";
}

/** The store's config file, relative to the store root. */
export const CONFIG_FILE = "config.json";
/** Metadata setting prefix remembering the package of a plugin driver by driver name. */
export const PLUGIN_SETTING_PREFIX = "driver-package.";

/** What `<root>/config.json` may hold (only `drivers` is read here). */
export interface StoreConfig {
  drivers?: string[];
}

/**
 * The driver packages listed in `<root>/config.json`; none when the file does not exist.
 * @throws InvalidArgumentError when the file is not JSON or `drivers` is not a list of strings.
 */
export async function configuredDrivers(storeRoot: string): Promise<string[]> {
  const file = path.join(storeRoot, CONFIG_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new InvalidArgumentError(`config file ${file}: want a JSON object`);
  }
  const drivers = (config as StoreConfig).drivers;
  if (drivers === undefined) return [];
  if (!Array.isArray(drivers) || !drivers.every((d) => typeof d === "string" && d !== "")) {
    throw new InvalidArgumentError(
      `config file ${file}: "drivers" must be a list of package names or paths`,
    );
  }
  return drivers;
}

/** Whether `spec` names a file-system path rather than a package. */
function isPath(spec: string): boolean {
  return spec.startsWith("/") || spec.startsWith("./") || spec.startsWith("../") || spec === ".";
}

/** Directories whose `node_modules` may hold a package, in the documented order. */
export function searchDirs(base: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  const ancestors = (from: string) => {
    for (let d = path.resolve(from); ; d = path.dirname(d)) {
      if (path.basename(d) !== "node_modules") dirs.push(path.join(d, "node_modules"));
      if (path.dirname(d) === d) break;
    }
  };
  ancestors(base);
  ancestors(path.dirname(fileURLToPath(import.meta.url)));
  for (const p of (env.NODE_PATH ?? "").split(path.delimiter)) if (p) dirs.push(path.resolve(p));
  dirs.push(path.join(path.dirname(path.dirname(process.execPath)), "lib", "node_modules"));
  return [...new Set(dirs)];
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * The directory (or module file) `spec` names, searched from `base`.
 * @throws NotFoundError naming where it looked.
 */
export async function locatePackage(spec: string, base: string): Promise<string> {
  if (isPath(spec)) {
    const p = path.resolve(base, spec);
    try {
      await fs.stat(p);
      return p;
    } catch {
      throw new NotFoundError(`storage driver package "${spec}": ${p} does not exist`);
    }
  }
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(spec)) {
    throw new NotFoundError(`storage driver package "${spec}": not a package name or path`);
  }
  const dirs = searchDirs(base);
  for (const d of dirs) {
    const p = path.join(d, spec);
    if (await isDir(p)) return p;
  }
  throw new NotFoundError(
    `storage driver package "${spec}" not found (looked in node_modules of ${base} and its parents, of strata's install, NODE_PATH and ${dirs[dirs.length - 1]})`,
  );
}

/** The package entry point Node would import: `exports["."]`, else `main`, else index.js. */
function entryOf(pkg: Record<string, unknown>): string {
  const pick = (v: unknown): string | undefined => {
    if (typeof v === "string") return v;
    if (Array.isArray(v)) return v.map(pick).find((x) => x !== undefined);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if ("." in o) return pick(o["."]);
      for (const c of ["node", "import", "default"]) if (c in o) return pick(o[c]);
    }
    return undefined;
  };
  return pick(pkg.exports) ?? (typeof pkg.main === "string" ? pkg.main : "index.js");
}

let hooksRegistered = false;

/**
 * Make `@strata/core` (and `/testing`) resolve to strata's own copy for every module
 * loaded from now on. A plugin declares core as a peer dependency, yet npm installs a copy
 * next to it; two copies would mean two tsyringe instances and error classes that
 * `instanceof` cannot recognise. The host provides the peer, as peer dependencies intend.
 */
function shareCore(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  const hooks = new URL("./plugin-hooks.js", import.meta.url);
  // Run from its TypeScript sources (unit tests), there is no compiled hooks module; the
  // packages those tests load import no core.
  if (!existsSync(fileURLToPath(hooks))) return;
  register(hooks, {
    data: {
      core: import.meta.resolve("@strata/core"),
      testing: import.meta.resolve("@strata/core/testing"),
    },
  });
}

/** Whether `v` has the shape of a {@link DriverModule} (any contract version). */
function looksLikeDriver(v: unknown): v is DriverModule {
  if (!v || typeof v !== "object") return false;
  const m = v as Record<string, unknown>;
  return (
    typeof m.name === "string" &&
    typeof m.contractVersion === "number" &&
    typeof m.priority === "number" &&
    typeof m.probe === "function" &&
    typeof m.register === "function"
  );
}

/**
 * Import the driver package `spec` (resolved from `base`) and check its driver module:
 * the named export `driver`, else the default export.
 *
 * @throws NotFoundError when the package cannot be found.
 * @throws InvalidArgumentError when it cannot be imported or exports no driver module.
 * @throws FailedPreconditionError when it was written for another driver contract version.
 */
export async function loadDriverPlugin(
  spec: string,
  base: string,
  origin: DriverPlugin["origin"],
): Promise<DriverPlugin> {
  // The real path: what the store remembers must outlive a symlink (npm link, a project's
  // node_modules) that pointed at it.
  const location = await fs.realpath(await locatePackage(spec, base));
  let entry = location;
  let packageName = spec;
  if (await isDir(location)) {
    let pkg: Record<string, unknown> = {};
    try {
      pkg = JSON.parse(await fs.readFile(path.join(location, "package.json"), "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new InvalidArgumentError(
          `storage driver package "${spec}": ${location}/package.json: ${(err as Error).message}`,
        );
      }
    }
    if (typeof pkg.name === "string") packageName = pkg.name;
    entry = path.resolve(location, entryOf(pkg));
    if (
      !(await fs.stat(entry).then(
        (st) => st.isFile(),
        () => false,
      ))
    ) {
      throw new InvalidArgumentError(
        `package "${packageName}" is not a strata storage driver: its entry point ${entry} does not exist (is it built?)`,
      );
    }
  }
  shareCore();
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(
      `storage driver package "${packageName}": cannot load ${entry}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const module = [ns.driver, ns.default].find(looksLikeDriver);
  if (!module) {
    throw new InvalidArgumentError(
      `package "${packageName}" is not a strata storage driver: it exports no driver module (a named export "driver" or a default export with name, contractVersion, priority, probe and register)`,
    );
  }
  if (module.contractVersion !== DRIVER_CONTRACT_VERSION) {
    throw new FailedPreconditionError(
      `storage driver package "${packageName}" (driver "${module.name}") implements driver contract version ${module.contractVersion}, but this strata implements version ${DRIVER_CONTRACT_VERSION}`,
    );
  }
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(module.name)) {
    throw new InvalidArgumentError(
      `storage driver package "${packageName}": invalid driver name "${module.name}" (want lowercase letters, digits, "_", "." and "-")`,
    );
  }
  return { module, packageName, location, origin };
}
