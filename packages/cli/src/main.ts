/**
 * Entry point of the `strata` command: global options, command dispatch, and the single
 * mapping from errors to messages and exit codes ({@link reportError}).
 */
import type { Readable, Writable } from "node:stream";
import { Cli, type CommandClass } from "clipanion";
import { COMMANDS } from "./commands/index.js";
import { StrataCommand } from "./commands/strata-command.js";
import type { Composition } from "./container.js";
import type { StrataContext } from "./context.js";
import { ExitCode, reportError } from "./errors.js";
import { DEFAULT_ROOT, type GlobalOptions, parseGlobalOptions } from "./global-options.js";
import { registryOptions } from "./registry-options.js";
import { VERSION } from "./version.js";

/** The process resources `main` uses; tests pass their own. */
export interface MainIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}

/**
 * Run `strata` with `argv` (without the node and script paths) and return its exit code:
 * 0 on success, 1 when the operation failed, 125 on bad usage.
 */
export async function main(argv: readonly string[], io: Partial<MainIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;

  let globals: GlobalOptions;
  try {
    globals = parseGlobalOptions(argv, env);
  } catch (err) {
    return reportError(err, { stderr });
  }
  if (globals.version) {
    stdout.write(`strata version ${VERSION}\n`);
    return ExitCode.Success;
  }

  const cli = new Cli<StrataContext>({
    binaryName: "strata",
    binaryLabel: "strata",
    binaryVersion: VERSION,
    enableColors: false,
  });
  // clipanion compiles a state machine of every registered command on each run (30–90 ms
  // for all of them); the commands reachable from the first word parse a known command
  // alone. Anything else (an unknown word, an option) gets them all, for its error.
  const word = globals.rest[0];
  const reachable = COMMANDS.filter((c) => (c.paths ?? []).some((p) => p[0] === word));
  for (const command of reachable.length > 0 ? reachable : COMMANDS) cli.register(command);
  if (globals.help) {
    stdout.write(generalHelp());
    return ExitCode.Success;
  }
  const [first, second] = globals.rest;
  if (
    first !== undefined &&
    Object.hasOwn(GROUPS, first) &&
    (second === undefined || second === "--help" || second === "-h")
  ) {
    stdout.write(groupHelp(first));
    return ExitCode.Success;
  }

  let composition: Promise<Composition> | undefined;
  const compose = () => {
    composition ??= import("./container.js").then(async ({ createContainer }) =>
      createContainer({
        root: globals.root,
        ...(globals.storageDriver !== undefined ? { storageDriver: globals.storageDriver } : {}),
        storageOpts: globals.storageOpts,
        registry: await registryOptions(globals, env),
      }),
    );
    return composition;
  };
  const context: StrataContext = {
    ...Cli.defaultContext,
    env,
    stdin: io.stdin ?? process.stdin,
    stdout,
    stderr,
    colorDepth: 1,
    globals,
    container: async () => (await compose()).container,
    driverName: async () => (await compose()).driver.name,
    drivers: async () => (await import("./container.js")).builtinDrivers(),
    storeDrivers: async () => (await compose()).allDrivers(),
    registry: async () =>
      (await import("./container.js")).createRegistryContainer(await registryOptions(globals, env)),
  };

  const commandPath = guessPath(globals.rest);
  let command: ReturnType<typeof cli.process>;
  try {
    command = cli.process(globals.rest, context);
  } catch (err) {
    return reportError(err, {
      stderr,
      ...(commandPath ? { commandPath } : {}),
      debug: globals.debug,
    });
  }
  if (!(command instanceof StrataCommand)) {
    // clipanion's built-in help command (`-h`/`--help` after a command): let it print.
    return cli.run(command, context);
  }
  command.context = context;
  try {
    return await command.validateAndExecute();
  } catch (err) {
    return reportError(err, { stderr, commandPath: command.path.join(" "), debug: globals.debug });
  } finally {
    if (composition) await (await composition.catch(() => undefined))?.dispose();
  }
}

/** The longest registered command path argv starts with (for the `--help` hint). */
function guessPath(rest: readonly string[]): string | undefined {
  let best: string[] | undefined;
  for (const cls of COMMANDS as CommandClass<StrataContext>[]) {
    for (const p of cls.paths ?? []) {
      if (p.every((w, i) => rest[i] === w) && p.length > (best?.length ?? 0)) best = p;
    }
  }
  return best?.join(" ");
}

/** Management commands (`strata image …`) and what they manage, as docker's. */
const GROUPS: Record<string, string> = {
  container: "Manage containers",
  image: "Manage images",
  system: "Manage strata",
};

/**
 * `[name, description]` of each command reachable as `strata <prefix…> name`; a command
 * is listed under its first such path only (aliases such as `image list` are not).
 */
function commandsUnder(prefix: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const cls of COMMANDS) {
    const p = (cls.paths ?? []).find(
      (p) => p.length === prefix.length + 1 && prefix.every((w, i) => p[i] === w),
    );
    if (p) out.push([p[p.length - 1] ?? "", cls.usage?.description ?? ""]);
  }
  return out.sort(([a], [b]) => a.localeCompare(b));
}

function columns(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([a]) => a.length)) + 3;
  return rows.map(([a, b]) => `  ${a.padEnd(w)}${b}\n`).join("");
}

/** `strata --help`, laid out like docker's. */
function generalHelp(): string {
  const options: [string, string][] = [
    [
      "    --root string",
      `Root directory of the strata store (default "${DEFAULT_ROOT}", env STRATA_ROOT)`,
    ],
    [
      "-s, --storage-driver string",
      "Storage driver, or driver package name or path, to use (env STRATA_STORAGE_DRIVER; default: the store's last, else the first that works)",
    ],
    ["    --storage-opt list", "Storage driver option KEY=VALUE (repeatable)"],
    [
      "    --config string",
      'Location of client config files (default "~/.strata", env STRATA_CONFIG)',
    ],
    ["    --insecure-registry list", "Registry to reach over plain HTTP (repeatable)"],
    ["    --registry-mirror list", "Mirror of docker.io to pull from first (repeatable)"],
    ["-D, --debug", "Enable debug mode"],
    ["-v, --version", "Print version information and quit"],
    ["-h, --help", "Print usage"],
  ];
  const groups = Object.entries(GROUPS).sort(([a], [b]) => a.localeCompare(b));
  return (
    "\nUsage:  strata [OPTIONS] COMMAND\n\n" +
    "A daemonless container image engine with swappable storage drivers\n\n" +
    `Options:\n${columns(options)}\n` +
    `Management Commands:\n${columns(groups)}\n` +
    `Commands:\n${columns(commandsUnder([]))}\n` +
    "Run 'strata COMMAND --help' for more information on a command.\n"
  );
}

/** `strata image` (a management command alone), laid out like docker's. */
function groupHelp(group: string): string {
  return (
    `\nUsage:  strata ${group} COMMAND\n\n${GROUPS[group]}\n\n` +
    `Commands:\n${columns(commandsUnder([group]))}\n` +
    `Run 'strata ${group} COMMAND --help' for more information on a command.\n`
  );
}
