import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { NotSupportedError } from "../errors.js";
import { findExecutable } from "../util/find-executable.js";

/** What `runc state` reports. */
export interface RuncState {
  id: string;
  /** `creating`, `created`, `running`, `paused` or `stopped`. */
  status: string;
  /** PID of the container's init process on the host (0 once it stopped). */
  pid: number;
  bundle: string;
}

/** The outcome of one runc invocation. */
interface RuncResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A thin wrapper over the `runc` binary (Debian's `runc` package, the runtime docker
 * uses), with its state directory inside strata's store (`--root <store>/runc`) so that
 * stores never see each other's containers. Only the short commands run here; `run` and
 * `exec`, which carry a container's stdio, are spawned by the runner from
 * {@link runArgs} and {@link execArgs}.
 */
export class Runc {
  private binary: string | undefined;

  /** @param stateRoot runc's `--root`: where it keeps its per-container state. */
  constructor(readonly stateRoot: string) {}

  /**
   * The runc binary's path.
   * @throws NotSupportedError when runc is not installed.
   */
  async path(): Promise<string> {
    this.binary ??= await findExecutable("runc");
    if (!this.binary) {
      throw new NotSupportedError(
        'runtime "runc": not found on $PATH; install the runc package (scripts/bootstrap does)',
      );
    }
    return this.binary;
  }

  /** Arguments of `runc run` for a bundle, logging runc's own errors as JSON to `logFile`. */
  runArgs(id: string, bundle: string, logFile: string): string[] {
    return [
      "--root",
      this.stateRoot,
      "--log",
      logFile,
      "--log-format",
      "json",
      "run",
      "--bundle",
      bundle,
      id,
    ];
  }

  /** Arguments of `runc exec` running `processFile` (an OCI process JSON) in a container. */
  execArgs(id: string, processFile: string, opts: { tty: boolean; detach: boolean }): string[] {
    const args = ["--root", this.stateRoot, "exec", "--process", processFile];
    if (opts.tty) args.push("--tty");
    if (opts.detach) args.push("--detach");
    args.push(id);
    return args;
  }

  /** The container's state, or undefined when runc does not know it. */
  async state(id: string): Promise<RuncState | undefined> {
    const r = await this.invoke(["state", id]);
    if (r.code !== 0) return undefined;
    try {
      return JSON.parse(r.stdout) as RuncState;
    } catch {
      return undefined;
    }
  }

  /**
   * Send `signal` (a name such as `TERM`, `SIGKILL`, or a number) to the container's init
   * process (`all`: to every process in it).
   * @returns false when the container is not running (runc refused).
   */
  async kill(id: string, signal: string, all = false): Promise<boolean> {
    const args = ["kill", ...(all ? ["--all"] : []), id, signal];
    return (await this.invoke(args)).code === 0;
  }

  /** Freeze every process of the container (cgroup freezer). */
  async pause(id: string): Promise<void> {
    await this.check(["pause", id]);
  }

  /** Thaw a paused container. */
  async resume(id: string): Promise<void> {
    await this.check(["resume", id]);
  }

  /** Forget a stopped container (with `force`, kill a running one first); quiet if unknown. */
  async delete(id: string, force = true): Promise<void> {
    await this.invoke(["delete", ...(force ? ["--force"] : []), id]);
  }

  private async check(args: string[]): Promise<void> {
    const r = await this.invoke(args);
    if (r.code !== 0) throw new Error(`runc ${args.join(" ")}: ${r.stderr.trim()}`);
  }

  private async invoke(args: string[]): Promise<RuncResult> {
    const bin = await this.path();
    return new Promise((resolve) => {
      execFile(bin, ["--root", this.stateRoot, ...args], (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }
}

/**
 * The last error runc wrote to its JSON log (`--log-format json`), or undefined when it
 * logged none: tells a container that exited non-zero from runc failing to start it.
 */
export function lastRuncError(logFile: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(logFile, "utf8");
  } catch {
    return undefined;
  }
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === "error" || entry.level === "fatal") && entry.msg) last = entry.msg;
    } catch {
      // a partial line: ignore
    }
  }
  return last;
}
