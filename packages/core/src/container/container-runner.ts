import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Writable } from "node:stream";
import { inject, injectable } from "tsyringe";
import type { DriverContext } from "../driver/driver-module.js";
import { CommandNotRunnableError, FailedPreconditionError, UnavailableError } from "../errors.js";
import { isMountPoint, MountManager } from "../mount/mount-manager.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { Tokens } from "../tokens.js";
import { processAlive } from "../util/process.js";
import { ContainerLayout, containerKey, hostsFile } from "./container-layout.js";
import { ContainerStore } from "./container-store.js";
import { type ContainerRecord, type ContainerState, containerCommand } from "./container-types.js";
import { JsonLogWriter, type LogStream } from "./json-log.js";
import { buildOciSpec, containerEnv, type OciMount } from "./oci-spec.js";
import { checkExecutable, lookupUser, resolveInRoot } from "./rootfs-lookup.js";
import { lastRuncError, Runc } from "./runc.js";

/** The terminal side of a container run in the foreground (`run` without `-d`, `start -a`). */
export interface AttachIo {
  /** Give the container strata's stdin (`-i`). */
  stdin: boolean;
  /** Where the container's stdout goes (besides its log) when it has no terminal. */
  stdout: Writable;
  /** Where the container's stderr goes (besides its log) when it has no terminal. */
  stderr: Writable;
}

/** Options of {@link ContainerRunner.run}. */
export interface RunOptions {
  /** Attach to strata's terminal; without it the output goes to the log only (supervisor). */
  attach?: AttachIo;
  /** A nonce identifying this start attempt in the container's state. */
  attempt?: string;
  /** Forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the container. */
  forwardSignals?: boolean;
}

const FORWARDED: NodeJS.Signals[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/**
 * Runs containers with runc and keeps their state true: the monitor side of strata.
 *
 * {@link run} is what watches one run of a container, in the foreground (`strata run`) or
 * in the detached supervisor (`run -d`, `start`): it mounts the rootfs on the bundle,
 * writes `config.json`, runs `runc run` to its end while logging the output, then records
 * the exit code and unmounts. {@link reconcile} repairs the state of a container whose
 * monitor died (exit code 255, as docker reports containers that died with their daemon).
 */
@injectable()
export class ContainerRunner {
  /** Paths of containers' files. */
  readonly layout: ContainerLayout;
  /** The runc wrapper, with its state inside the store. */
  readonly runc: Runc;

  constructor(
    @inject(Tokens.StoreRoot) root: string,
    @inject(ContainerStore) private readonly store: ContainerStore,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(MountManager) private readonly mounts: MountManager,
    @inject(Tokens.DriverContext) private readonly driver: DriverContext,
  ) {
    this.layout = new ContainerLayout(root);
    this.runc = new Runc(this.layout.runcRoot);
  }

  /** Name of the storage driver in use. */
  get driverName(): string {
    return this.driver.name;
  }

  /**
   * Fail unless the selected driver holds the container's snapshot.
   * @throws FailedPreconditionError naming the driver to use.
   */
  checkDriver(rec: ContainerRecord): void {
    if (rec.driver !== this.driver.name) {
      throw new FailedPreconditionError(
        `container ${rec.name}: created with storage driver "${rec.driver}", but strata is using "${this.driver.name}"; run it with --storage-driver ${rec.driver}`,
      );
    }
  }

  /**
   * Run the container's command to its end and return its exit code; the rootfs stays
   * mounted exactly as long as it runs. A start failure is recorded in the state (with
   * `attempt`) and thrown: CommandNotRunnableError (126/127) for a command that cannot be
   * executed, else the cause.
   */
  async run(id: string, opts: RunOptions = {}): Promise<number> {
    const rec = this.store.byId(id);
    if (!rec) throw new FailedPreconditionError(`No such container: ${id}`);
    this.checkDriver(rec);
    const before = rec.state.status === "exited" ? "exited" : "created";
    const runcBin = await this.runc.path();
    this.claim(rec, opts.attempt);
    try {
      await this.prepare(rec);
    } catch (err) {
      this.recordFailure(rec, before, err, opts.attempt);
      throw err;
    }
    const attach = opts.attach;
    const log = new JsonLogWriter(this.layout.logFile(id));
    // With a terminal, runc copies the pty to its stdout (logged and shown here, as docker
    // logs a tty's output too) and puts strata's terminal (its stdin) in raw mode; its
    // stderr then only carries runc's own messages, which go straight to strata's.
    const tty = !!rec.config.Tty && !!attach;
    const child = spawn(
      runcBin,
      this.runc.runArgs(id, this.layout.bundle(id), this.layout.runcLog(id)),
      { stdio: [attach?.stdin ? "inherit" : "ignore", "pipe", tty ? "inherit" : "pipe"] },
    );
    const drained = [
      this.pump(child, "stdout", log, attach?.stdout),
      this.pump(child, "stderr", log, attach?.stderr),
    ];
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    if (opts.forwardSignals) for (const s of FORWARDED) process.on(s, forward);
    let code: number;
    try {
      const [exitCode, signal] = (await once(child, "exit")) as [number | null, string | null];
      code = exitCode ?? 128 + (signal ? (os.constants.signals[signal as NodeJS.Signals] ?? 0) : 0);
      await Promise.all(drained);
    } finally {
      if (opts.forwardSignals) for (const s of FORWARDED) process.off(s, forward);
      log.close();
    }
    const runcError = lastRuncError(this.layout.runcLog(id));
    await this.finish(rec, runcError === undefined ? code : 125, runcError, before);
    if (runcError !== undefined) {
      throw new FailedPreconditionError(`failed to start container ${rec.name}: ${runcError}`);
    }
    return code;
  }

  /**
   * Mark the container as run by this process, in one transaction, so that two starts of
   * one container cannot both mount and run it.
   * @throws FailedPreconditionError when another live process already runs it.
   */
  private claim(rec: ContainerRecord, attempt: string | undefined): void {
    this.store.update(rec.id, (s) => {
      if (
        s.status === "running" &&
        s.monitorPid !== undefined &&
        s.monitorPid !== process.pid &&
        processAlive(s.monitorPid)
      ) {
        throw new FailedPreconditionError(`container ${rec.name} is already running`);
      }
      return {
        status: "running",
        monitorPid: process.pid,
        ...(attempt ? { attempt } : {}),
        startedAt: new Date().toISOString(),
      };
    });
  }

  private async pump(
    child: ChildProcess,
    stream: LogStream,
    log: JsonLogWriter,
    out: Writable | undefined,
  ): Promise<void> {
    const src = child[stream];
    if (!src) return;
    for await (const chunk of src as AsyncIterable<Buffer>) {
      log.write(stream, chunk);
      if (out && !out.write(chunk)) await once(out, "drain");
    }
  }

  /** Mount the rootfs and write the bundle's files; undo the mount on failure. */
  private async prepare(rec: ContainerRecord): Promise<void> {
    const { id, config } = rec;
    const bundle = this.layout.bundle(id);
    const rootfs = this.layout.rootfs(id);
    await fs.promises.mkdir(rootfs, { recursive: true });
    if (await isMountPoint(rootfs)) await this.mounts.unmount(rootfs);
    await this.mounts.mount(await this.snapshotter.mounts(containerKey(id)), rootfs);
    try {
      const user = lookupUser(rootfs, config.User ?? "");
      const cwd = config.WorkingDir || "/";
      const hostname = config.Hostname || id.slice(0, 12);
      const env = containerEnv(config.Env ?? [], hostname, !!config.Tty);
      const args = containerCommand(config);
      fs.mkdirSync(resolveInRoot(rootfs, cwd), { recursive: true, mode: 0o755 });
      checkExecutable(rootfs, args[0] ?? "", env, cwd);
      const host = rec.hostConfig.networkMode === "host";
      fs.writeFileSync(path.join(bundle, "hostname"), `${hostname}\n`);
      fs.writeFileSync(
        path.join(bundle, "hosts"),
        host ? readOr("/etc/hosts", hostsFile(hostname)) : hostsFile(hostname),
      );
      fs.writeFileSync(path.join(bundle, "resolv.conf"), readOr("/etc/resolv.conf", ""));
      const binds: OciMount[] = ["hostname", "hosts", "resolv.conf"].map((f) => ({
        destination: `/etc/${f}`,
        type: "bind",
        source: path.join(bundle, f),
        options: ["rbind", "rprivate"],
      }));
      for (const b of rec.hostConfig.binds) binds.push(bindMount(b));
      const spec = buildOciSpec({
        args,
        env,
        cwd,
        user,
        terminal: !!config.Tty,
        hostname,
        network: rec.hostConfig.networkMode,
        binds,
      });
      fs.writeFileSync(path.join(bundle, "config.json"), JSON.stringify(spec, null, 2));
      fs.rmSync(this.layout.runcLog(id), { force: true });
      await this.runc.delete(id);
    } catch (err) {
      await this.mounts.unmount(rootfs).catch(() => {});
      throw err;
    }
  }

  private recordFailure(
    rec: ContainerRecord,
    status: ContainerState["status"],
    err: unknown,
    attempt: string | undefined,
  ): void {
    const exitCode = err instanceof CommandNotRunnableError ? err.exitCode : 125;
    this.store.update(rec.id, (s) => ({
      ...s,
      status,
      exitCode,
      error: err instanceof Error ? err.message : String(err),
      ...(attempt ? { attempt } : {}),
      monitorPid: undefined,
    }));
  }

  /**
   * Record that a run ended: runc forgets the container, the rootfs is unmounted, the state
   * says `exited` (or, when runc failed to start it, what it was before, with the error).
   */
  private async finish(
    rec: ContainerRecord,
    exitCode: number,
    error: string | undefined,
    before: ContainerState["status"],
  ): Promise<void> {
    await this.runc.delete(rec.id);
    const rootfs = this.layout.rootfs(rec.id);
    if (await isMountPoint(rootfs)) await this.mounts.unmount(rootfs);
    this.store.update(rec.id, (s) => {
      const next: ContainerState = {
        ...s,
        status: error === undefined ? "exited" : before,
        exitCode,
        finishedAt: new Date().toISOString(),
      };
      delete next.monitorPid;
      if (error === undefined) delete next.error;
      else next.error = error;
      return next;
    });
  }

  /**
   * Bring a `running` record in line with reality: when its monitor is gone and runc no
   * longer runs it, record exit code 255, tell runc to forget it and unmount its rootfs.
   * @returns the record as it now stands.
   */
  async reconcile(rec: ContainerRecord): Promise<ContainerRecord> {
    if (rec.state.status !== "running") return rec;
    if (rec.state.monitorPid !== undefined && processAlive(rec.state.monitorPid)) return rec;
    const st = await this.runc.state(rec.id);
    if (st && st.status !== "stopped") return rec;
    await this.finish(rec, rec.state.exitCode ?? 255, undefined, "exited");
    return this.store.byId(rec.id) ?? rec;
  }

  /**
   * Reconcile every container of this driver recorded as running whose monitor is gone
   * (what `StoreService.recover` calls at each command's start).
   * @returns the IDs of the containers whose exit was recorded here.
   */
  async recoverAll(): Promise<string[]> {
    const out: string[] = [];
    for (const rec of this.store.list()) {
      if (rec.driver !== this.driver.name || rec.state.status !== "running") continue;
      if (rec.state.monitorPid !== undefined && processAlive(rec.state.monitorPid)) continue;
      if ((await this.reconcile(rec)).state.status !== "running") out.push(rec.id);
    }
    return out;
  }

  /** What runc says the container is doing: `running`, `paused`, or undefined. */
  async runtimeStatus(id: string): Promise<string | undefined> {
    return (await this.runc.state(id))?.status;
  }

  /**
   * Wait until the start attempt `attempt` (made by a detached supervisor, pid
   * `monitorPid`) has the container running under runc, or has failed.
   * @throws CommandNotRunnableError or FailedPreconditionError with the recorded failure.
   * @throws UnavailableError when the supervisor died without a word or time ran out.
   */
  async waitStarted(id: string, attempt: string, monitorPid: number, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rec = this.store.byId(id);
      if (!rec) return; // removed already (--rm of a command that ended at once)
      const s = rec.state;
      if (s.attempt === attempt) {
        if (s.status === "exited" && s.error === undefined) return;
        if (s.status !== "running") {
          const msg = s.error ?? "failed to start";
          if (s.exitCode === 126 || s.exitCode === 127)
            throw new CommandNotRunnableError(msg, s.exitCode);
          throw new FailedPreconditionError(msg);
        }
        const rt = await this.runtimeStatus(id);
        if (rt === "running" || rt === "paused") return;
      } else if (!processAlive(monitorPid)) {
        const why = readOr(this.layout.supervisorLog(id), "").trim();
        throw new UnavailableError(
          `container ${rec.name}: its supervisor exited before starting it${why ? `: ${why}` : ""}`,
        );
      }
      if (Date.now() > deadline) {
        throw new UnavailableError(`container ${rec.name}: did not start in time`);
      }
      await sleep(20);
    }
  }

  /** A fresh start-attempt nonce. */
  static newAttempt(): string {
    return randomBytes(8).toString("hex");
  }

  /**
   * Wait until the container no longer runs (its monitor recorded the exit, or
   * {@link reconcile} did).
   * @returns whether it stopped within `timeoutMs` (negative: wait for ever).
   */
  async waitStopped(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = timeoutMs < 0 ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    for (;;) {
      const rec = this.store.byId(id);
      if (!rec || (await this.reconcile(rec)).state.status !== "running") return true;
      if (Date.now() >= deadline) return false;
      await sleep(50);
    }
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

/** The OCI mount of a `-v HOST:CONTAINER[:ro]` bind (checked when the container was made). */
function bindMount(spec: string): OciMount {
  const [source = "", destination = "", mode = ""] = spec.split(":");
  if (!fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
  const ro = mode.split(",").includes("ro");
  return { destination, type: "bind", source, options: ["rbind", ro ? "ro" : "rw", "rprivate"] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
