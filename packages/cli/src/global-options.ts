import { UsageError } from "clipanion";

/** Default store root, as docker's `/var/lib/docker`. */
export const DEFAULT_ROOT = "/var/lib/strata";

/**
 * Options that come before the command (`strata --root /tmp/s -s vfs images`), as docker's
 * top-level flags. clipanion has no global options, so {@link parseGlobalOptions} takes
 * them off the front of argv and leaves the rest for the command.
 */
export interface GlobalOptions {
  /** `--root DIR` (env `STRATA_ROOT`), default {@link DEFAULT_ROOT}. */
  root: string;
  /** `--storage-driver NAME` / `-s NAME` (env `STRATA_STORAGE_DRIVER`); unset: auto-select. */
  storageDriver?: string;
  /** `--storage-opt KEY=VALUE`, repeatable: options handed to the driver. */
  storageOpts: Record<string, string>;
  /** `--config DIR` (env `STRATA_CONFIG`): client configuration (credentials); unset: `~/.strata`. */
  config?: string;
  /** `--insecure-registry HOST[:PORT]`, repeatable: registries reachable over plain HTTP. */
  insecureRegistries: string[];
  /** `--registry-mirror URL`, repeatable: mirrors of docker.io, tried first on pull. */
  registryMirrors: string[];
  /** `--debug` / `-D`: print stack traces of unexpected errors. */
  debug: boolean;
  /** `--version` / `-v`. */
  version: boolean;
  /** `--help` / `-h`, or no command at all. */
  help: boolean;
  /** The command and its arguments. */
  rest: string[];
}

type ValueFlag =
  | "root"
  | "storageDriver"
  | "storageOpt"
  | "config"
  | "insecureRegistry"
  | "registryMirror";
const VALUE_FLAGS: Record<string, ValueFlag> = {
  "--root": "root",
  "--storage-driver": "storageDriver",
  "-s": "storageDriver",
  "--storage-opt": "storageOpt",
  "--config": "config",
  "--insecure-registry": "insecureRegistry",
  "--registry-mirror": "registryMirror",
};
const BOOL_FLAGS: Record<string, "debug" | "version" | "help"> = {
  "--debug": "debug",
  "-D": "debug",
  "--version": "version",
  "-v": "version",
  "--help": "help",
  "-h": "help",
};

/**
 * Split argv into global options and the command line. Parsing stops at the first
 * argument that is not an option (the command name) or after `--`.
 *
 * @throws UsageError for an unknown global flag, a flag missing its value or a malformed
 *   `--storage-opt`.
 */
export function parseGlobalOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): GlobalOptions {
  const opts: GlobalOptions = {
    root: nonEmpty(env.STRATA_ROOT) ?? DEFAULT_ROOT,
    storageOpts: {},
    insecureRegistries: [],
    registryMirrors: [],
    debug: false,
    version: false,
    help: false,
    rest: [],
  };
  const configFromEnv = nonEmpty(env.STRATA_CONFIG);
  if (configFromEnv !== undefined) opts.config = configFromEnv;
  const driverFromEnv = nonEmpty(env.STRATA_STORAGE_DRIVER);
  if (driverFromEnv !== undefined) opts.storageDriver = driverFromEnv;

  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const eq = arg.startsWith("--")
      ? arg.indexOf("=")
      : arg.startsWith("-") && arg[2] === "="
        ? 2
        : -1;
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const bool = BOOL_FLAGS[name];
    if (bool !== undefined) {
      opts[bool] = eq >= 0 ? parseBool(name, arg.slice(eq + 1)) : true;
      continue;
    }
    const flag = VALUE_FLAGS[name];
    if (flag === undefined) throw new UsageError(`unknown flag: ${name}`);
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag needs an argument: ${name}`);
      value = next;
      i++;
    }
    if (flag === "insecureRegistry" || flag === "registryMirror") {
      if (value === "") throw new UsageError(`flag ${name} needs a non-empty value`);
      (flag === "insecureRegistry" ? opts.insecureRegistries : opts.registryMirrors).push(value);
    } else if (flag === "storageOpt") {
      const sep = value.indexOf("=");
      if (sep <= 0) throw new UsageError(`invalid storage option "${value}": want KEY=VALUE`);
      opts.storageOpts[value.slice(0, sep)] = value.slice(sep + 1);
    } else if (value === "") {
      throw new UsageError(`flag ${name} needs a non-empty value`);
    } else {
      opts[flag] = value;
    }
  }
  opts.rest = argv.slice(i);
  if (opts.rest.length === 0 && !opts.version) opts.help = true;
  return opts;
}

/** Go's `strconv.ParseBool`, which docker's boolean flags accept after `=`. */
export function parseBool(flag: string, value: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  throw new UsageError(
    `invalid argument "${value}" for "${flag}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`,
  );
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
