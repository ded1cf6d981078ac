/**
 * Helpers for the end-to-end suite: run the built `strata` CLI (and other commands) as a
 * user would, in throw-away store roots, and make the busybox base image without network.
 *
 * @example
 * ```ts
 * const cli = await createStrata({ driver: "vfs" });
 * afterAll(cleanupTempDirs);
 * const tar = await makeBusyboxRootfs(await makeTempDir());
 * await cli.ok("import", tar, "busybox:latest");
 * expect((await cli.run("images")).stdout).toMatch(/^busybox\s+latest/m);
 * ```
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root directory, resolved from this file's location. */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The CLI's entry point; it loads `packages/cli/dist`, so the CLI must be built. */
export const strataBin: string = join(repoRoot, "packages/cli/bin/strata.js");

/** What a finished command returned. `code` is 128 + the signal number when it was killed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link run} and of {@link StrataCli.run}. */
export interface RunOptions {
  /** Written to the command's stdin, which is otherwise closed (`/dev/null`). */
  input?: string | Buffer;
  /** Added to (and overriding) the inherited environment. */
  env?: NodeJS.ProcessEnv;
  /** Working directory; the repository root by default. */
  cwd?: string;
  /** Kill the command (SIGKILL) after this many milliseconds; 5 minutes by default. */
  timeoutMs?: number;
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Runs `command args...` to completion and returns its exit code and output. It never throws
 * on a non-zero exit (tests assert on `code`); it rejects only when the command cannot start.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    const timeoutMs = options.timeoutMs ?? 300_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let err = Buffer.concat(stderr).toString("utf8");
      if (timedOut) err += `\n[helpers] ${command} killed after ${timeoutMs} ms`;
      resolvePromise({
        code: code ?? 128 + (signal ? (signalNumbers[signal] ?? 0) : 0),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: err,
      });
    });
    if (options.input !== undefined) {
      // A command that refuses its input early exits before reading it all: not an error here.
      child.stdin?.on("error", () => {});
      child.stdin?.end(options.input);
    }
  });
}

/** Options of {@link createStrata}. */
export interface StrataOptions {
  /** `--storage-driver`; omitted when not given, so the CLI picks (or `STRATA_STORAGE_DRIVER`). */
  driver?: string;
  /** `--root`; a fresh temporary directory (removed by {@link cleanupTempDirs}) when not given. */
  root?: string;
}

/** The `strata` CLI bound to one store root and, optionally, one storage driver. */
export class StrataCli {
  constructor(
    readonly root: string,
    readonly driver?: string,
  ) {}

  /** The global flags every invocation gets: `--root R [--storage-driver D]`. */
  get globalArgs(): string[] {
    return this.driver === undefined
      ? ["--root", this.root]
      : ["--root", this.root, "--storage-driver", this.driver];
  }

  /** Runs `strata <global flags> args...`; see {@link run}. */
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  run(...args: string[]): Promise<RunResult>;
  run(...params: unknown[]): Promise<RunResult> {
    const [args, options] = Array.isArray(params[0])
      ? [params[0] as string[], params[1] as RunOptions | undefined]
      : [params as string[], undefined];
    return run(process.execPath, [strataBin, ...this.globalArgs, ...args], options);
  }

  /** Like {@link run} but throws, with the command's stderr, unless it exits 0; returns stdout. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.run(args);
    if (result.code !== 0) {
      throw new Error(
        `strata ${args.join(" ")} exited ${result.code}\n--- stderr ---\n${result.stderr}` +
          `--- stdout ---\n${result.stdout}`,
      );
    }
    return result.stdout;
  }
}

/** A {@link StrataCli} on a fresh temporary store root unless `options.root` is given. */
export async function createStrata(options: StrataOptions = {}): Promise<StrataCli> {
  const root = options.root ?? (await makeTempDir("strata-root-"));
  return new StrataCli(root, options.driver);
}

const tempDirs = new Set<string>();

/** Creates a temporary directory that {@link cleanupTempDirs} removes. */
export async function makeTempDir(prefix = "strata-e2e-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Mount points at or below `dir`, deepest first, read from /proc/self/mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  let info: string;
  try {
    info = await readFile("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
  return info
    .split("\n")
    .map((line) => decode(line.split(" ")[4] ?? ""))
    .filter((target) => target === dir || target.startsWith(dir + sep))
    .sort((a, b) => b.length - a.length);
}

/**
 * Kills what a store under `dir` may still run when a test ended early: its supervisors
 * (found by their command line naming the store) and runc's containers in `<dir>/runc`. A
 * container left running after its store is deleted burns CPU for the rest of the suite.
 */
async function stopContainersUnder(dir: string): Promise<void> {
  const under = (path: string) => path === dir || path.startsWith(dir + sep);
  const supervisors: number[] = [];
  const storeRoots = new Set([dir]);
  for (const pid of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const argv = cmdline.split("\0");
    if (!argv.some((a) => a.endsWith("supervisor.js"))) continue;
    const roots = argv.filter(under);
    if (roots.length === 0) continue;
    supervisors.push(Number(pid));
    for (const root of roots) storeRoots.add(root);
  }
  for (const root of storeRoots) {
    const runcRoot = join(root, "runc");
    const list = await run("runc", ["--root", runcRoot, "list", "-q"], { timeoutMs: 30_000 });
    if (list.code !== 0) continue;
    for (const id of list.stdout.split("\n").filter(Boolean)) {
      await run("runc", ["--root", runcRoot, "delete", "--force", id], { timeoutMs: 30_000 });
    }
  }
  for (const pid of supervisors) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

/**
 * Removes `dir` after unmounting whatever a driver left mounted below it (lazily, so a busy
 * FUSE mount cannot hang the suite). Unmounting first matters: `rm -r` through a live union
 * mount would delete lower layers' files.
 */
export async function removeTempDir(dir: string): Promise<void> {
  await stopContainersUnder(dir);
  for (const target of await mountsUnder(dir)) {
    const { code } = await run("umount", [target], { timeoutMs: 30_000 });
    if (code !== 0) await run("umount", ["-l", target], { timeoutMs: 30_000 });
  }
  if ((await mountsUnder(dir)).length > 0) {
    throw new Error(`${dir}: still has mounts after umount; not removing it`);
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

/** Removes every directory made by {@link makeTempDir} or {@link createStrata}; for `afterAll`. */
export async function cleanupTempDirs(): Promise<void> {
  const errors: unknown[] = [];
  for (const dir of [...tempDirs]) {
    await removeTempDir(dir).catch((err: unknown) => errors.push(err));
  }
  if (errors.length > 0) throw new AggregateError(errors, "cleanupTempDirs: some dirs remain");
}

/**
 * Writes the busybox root filesystem tarball (scripts/make-busybox-rootfs) to
 * `dir/busybox.tar` and returns its path. Deterministic: the same tar every call.
 */
export async function makeBusyboxRootfs(
  dir: string,
  options: { hardlinks?: boolean; name?: string } = {},
): Promise<string> {
  const out = join(dir, options.name ?? "busybox.tar");
  const args = [join(repoRoot, "scripts/make-busybox-rootfs"), out];
  if (options.hardlinks) args.push("--hardlinks");
  const result = await run("bash", args, { timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new Error(`make-busybox-rootfs exited ${result.code}: ${result.stderr}`);
  }
  return out;
}
