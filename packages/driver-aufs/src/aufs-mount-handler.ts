import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type Mount, type MountHandler, processAlive, UnavailableError } from "@strata/core";
import {
  AUFS_MOUNT_TYPE,
  type AufsCacheOptions,
  fuseMountOptions,
  parseAufsMount,
} from "./aufs-mount-spec.js";
import type { AufsServerArgs } from "./aufs-server.js";
import { aufsMountAt, aufsMounts, ensureFusectl, unmountAufs } from "./fuse-mounts.js";

/** The helper's entry point (built: the handler runs from `src/` in tests too). */
export const AUFS_SERVER_PATH = fileURLToPath(new URL("../dist/aufs-server.js", import.meta.url));

/** Options of {@link AufsMountHandler}. */
export interface AufsMountHandlerOptions {
  /**
   * Where helper records (`<id>.json`: pid, target, log) and logs (`<id>.log`) live. The
   * driver uses `<driver root>/run`; a dead helper is found there.
   */
  runDir: string;
  /** How long a helper may take to answer; default 30 s. */
  readyTimeoutMs?: number;
  /** Cache timeouts overriding the defaults of {@link fuseMountOptions}. */
  cache?: Partial<AufsCacheOptions>;
  /** More libfuse options, appended to {@link fuseMountOptions}' (benchmarks, debugging). */
  extraFuseOptions?: readonly string[];
}

/** What the handler records about a running helper. */
export interface HelperRecord {
  pid: number;
  /** Mount point (absolute). */
  target: string;
  /** FUSE connection number of the mount. */
  connection?: number;
  /** The helper's log (its stdout and stderr). */
  log: string;
  /** When it was started (ISO 8601). */
  started: string;
}

/** A helper and whether it still runs, as {@link AufsMountHandler.helpers} reports. */
export interface HelperStatus extends HelperRecord {
  alive: boolean;
  /** Whether its mount is still in the mount table. */
  mounted: boolean;
}

/**
 * Mounts and unmounts `fuse.aufs` unions (containerd's `mount.Handler` for strata's FUSE
 * driver). Each mount gets its own helper process, `node dist/aufs-server.js`, started
 * detached with its output in a log; `mount` returns once the kernel has initialised the
 * mount and the helper answered on its ready pipe. `unmount` unmounts (lazily when busy),
 * then waits for the helper to exit. A helper that died is noticed through its pid
 * record: its mount is aborted (`/sys/fs/fuse/connections/N/abort`) and unmounted the
 * next time that target is mounted or unmounted, or at {@link cleanStale}.
 */
export class AufsMountHandler implements MountHandler {
  readonly type = AUFS_MOUNT_TYPE;
  readonly runDir: string;
  private readonly readyTimeoutMs: number;
  private readonly cache: Partial<AufsCacheOptions> | undefined;
  private readonly extraFuseOptions: readonly string[];

  constructor(opts: AufsMountHandlerOptions) {
    this.runDir = opts.runDir;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
    this.cache = opts.cache;
    this.extraFuseOptions = opts.extraFuseOptions ?? [];
  }

  /**
   * Start a helper serving `m` on the existing directory `target`.
   * @throws InvalidArgumentError for a malformed aufs mount.
   * @throws UnavailableError when the helper fails to mount or to answer in time (the
   *   message carries the end of its log).
   */
  async mount(m: Mount, target: string): Promise<void> {
    const spec = parseAufsMount(m);
    const abs = path.resolve(target);
    await fs.mkdir(this.runDir, { recursive: true });
    await ensureFusectl();
    await this.clearTarget(abs);
    const id = recordId(abs);
    const log = path.join(this.runDir, `${id}.log`);
    const args: AufsServerArgs = {
      target: abs,
      branches: spec.branches,
      ...(spec.workdir ? { workdir: spec.workdir } : {}),
      fuseOptions: [...fuseMountOptions(spec, this.cache), ...this.extraFuseOptions],
    };
    const logFd = fsSync.openSync(log, "w");
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [AUFS_SERVER_PATH, JSON.stringify(args)], {
        detached: true,
        cwd: "/", // never inside a mount, its own least of all
        stdio: ["ignore", logFd, logFd, "pipe"],
        env: { ...process.env, NODE_OPTIONS: "" },
      });
    } finally {
      fsSync.closeSync(logFd);
    }
    const reply = await readReady(child, this.readyTimeoutMs);
    if (!reply.startsWith("ready")) {
      if (child.pid !== undefined && processAlive(child.pid)) child.kill("SIGKILL");
      const stale = await aufsMountAt(abs);
      if (stale) await unmountAufs(stale, true).catch(() => {});
      const tail = await logTail(log);
      throw new UnavailableError(
        `aufs: the FUSE helper for ${abs} did not start (${reply})${tail ? `: ${tail}` : ""}`,
      );
    }
    child.unref();
    const connection = Number(reply.split(" ")[1]);
    const record: HelperRecord = {
      pid: child.pid!,
      target: abs,
      ...(Number.isFinite(connection) && reply.split(" ")[1] ? { connection } : {}),
      log,
      started: new Date().toISOString(),
    };
    await fs.writeFile(path.join(this.runDir, `${id}.json`), JSON.stringify(record));
  }

  /** Unmount the union at `target` and let its helper go. */
  async unmount(target: string): Promise<void> {
    const abs = path.resolve(target);
    const rec = await this.record(abs);
    const alive = rec !== undefined && processAlive(rec.pid);
    const m = await aufsMountAt(abs);
    let lazy = false;
    if (m) lazy = await unmountAufs(m, !alive);
    if (rec) {
      // A lazily detached mount still serves its open files: let the helper finish them.
      if (alive && !lazy) await stopHelper(rec.pid);
      await this.forget(abs, !alive);
    }
  }

  /** The helpers this run directory knows of, alive or not. */
  async helpers(): Promise<HelperStatus[]> {
    const names = await fs.readdir(this.runDir).catch(() => [] as string[]);
    const mounted = new Set((await aufsMounts()).map((m) => m.target));
    const out: HelperStatus[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const rec = await readRecord(path.join(this.runDir, name));
      if (rec) out.push({ ...rec, alive: processAlive(rec.pid), mounted: mounted.has(rec.target) });
    }
    return out;
  }

  /**
   * Clear what dead helpers left: abort and unmount their mounts, drop their records.
   * @returns the mount points cleared.
   */
  async cleanStale(): Promise<string[]> {
    const cleared: string[] = [];
    for (const h of await this.helpers()) {
      if (h.alive) continue;
      await this.clearTarget(h.target);
      cleared.push(h.target);
    }
    return cleared;
  }

  /** Before mounting on `target`: clear a dead helper's mount and record there. */
  private async clearTarget(target: string): Promise<void> {
    const rec = await this.record(target);
    if (rec && processAlive(rec.pid)) return;
    const m = await aufsMountAt(target);
    if (m && rec) await unmountAufs(m, true).catch(() => {});
    if (rec) await this.forget(target, true);
  }

  private async record(target: string): Promise<HelperRecord | undefined> {
    return readRecord(path.join(this.runDir, `${recordId(target)}.json`));
  }

  /** Drop the record of `target`; its log too unless `keepLog` (a helper that died). */
  private async forget(target: string, keepLog: boolean): Promise<void> {
    const id = recordId(target);
    await fs.rm(path.join(this.runDir, `${id}.json`), { force: true });
    if (!keepLog) await fs.rm(path.join(this.runDir, `${id}.log`), { force: true });
  }
}

/** Record file name of a mount point. */
function recordId(target: string): string {
  return createHash("sha256").update(target).digest("hex").slice(0, 16);
}

async function readRecord(file: string): Promise<HelperRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as HelperRecord;
  } catch {
    return undefined;
  }
}

/** Wait for the helper's first line on fd 3 (or its exit, or the timeout). */
function readReady(child: ChildProcess, timeoutMs: number): Promise<string> {
  const pipe = child.stdio[3] as Readable | null;
  return new Promise((resolve) => {
    let buf = "";
    let done = false;
    const finish = (line: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      pipe?.destroy();
      child.removeListener("exit", onExit);
      resolve(line);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(`exited with ${signal ?? `status ${code}`} before answering`);
    const timer = setTimeout(() => finish(`no answer in ${timeoutMs} ms`), timeoutMs);
    child.on("exit", onExit);
    child.on("error", (err) => finish(`cannot start: ${err.message}`));
    pipe?.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) finish(buf.slice(0, nl));
    });
    pipe?.on("end", () => finish(buf.trim() || "closed its ready pipe without answering"));
  });
}

/** Wait for `pid` to exit; SIGTERM after 3 s, SIGKILL after 2 s more. */
async function stopHelper(pid: number): Promise<void> {
  const gone = async (ms: number) => {
    for (let t = 0; t < ms; t += 20) {
      if (!processAlive(pid)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return !processAlive(pid);
  };
  if (await gone(3000)) return;
  process.kill(pid, "SIGTERM");
  if (await gone(2000)) return;
  process.kill(pid, "SIGKILL");
}

/** The last lines of a helper's log, on one line. */
async function logTail(file: string): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text.trim().split("\n").slice(-5).join(" | ");
}
