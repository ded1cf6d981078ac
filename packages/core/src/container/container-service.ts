import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inject, injectable } from "tsyringe";
import { FailedPreconditionError, isErrorCode, UnavailableError } from "../errors.js";
import { ImageStore } from "../image/image-store.js";
import { isMountPoint, MountManager } from "../mount/mount-manager.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { Tokens } from "../tokens.js";
import { containerConfig, normalizeSignal, parseBind, parseNetwork } from "./container-config.js";
import { containerInspect } from "./container-inspect.js";
import { containerKey, fillInitLayer, initLayerKey, initLayerName } from "./container-layout.js";
import { generateContainerName } from "./container-names.js";
import { ContainerRunner } from "./container-runner.js";
import { ContainerStore } from "./container-store.js";
import type { ContainerRecord, CreateContainerOptions, HostConfig } from "./container-types.js";
import { containerEnv, mergeEnv, ociProcess } from "./oci-spec.js";
import { checkExecutable, lookupUser } from "./rootfs-lookup.js";

/** Launches the detached supervisor of a start attempt and returns its pid (the CLI's job). */
export type SupervisorLauncher = (id: string, attempt: string) => Promise<number>;

/** Options of {@link ContainerService.exec} (`docker exec`). */
export interface ExecOptions {
  tty?: boolean;
  interactive?: boolean;
  detach?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
}

/**
 * Containers' lifecycle (docker's `create`, `start`, `stop`, `kill`, `rm`, `ps`, `exec`):
 * the service the CLI's container commands call. A container is a row in the store, an
 * init layer and a writable snapshot on the driver it was created with, and a bundle
 * directory; {@link ContainerRunner} runs it.
 */
@injectable()
export class ContainerService {
  constructor(
    @inject(ContainerStore) readonly store: ContainerStore,
    @inject(ContainerRunner) readonly runner: ContainerRunner,
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(MountManager) private readonly mounts: MountManager,
  ) {}

  /**
   * Create a container from an image (`docker create`): its config, init layer and
   * writable snapshot. Nothing runs yet.
   * @throws NotFoundError for a missing image; AlreadyExistsError for a taken name;
   *   InvalidArgumentError for bad options; NotSupportedError for a network strata lacks.
   */
  async create(opts: CreateContainerOptions): Promise<ContainerRecord> {
    const image = await this.images.resolve(opts.image);
    const networkMode = parseNetwork(opts.network);
    const hostConfig: HostConfig = {
      binds: (opts.binds ?? []).map(parseBind),
      networkMode,
      autoRemove: !!opts.autoRemove,
    };
    const id = randomBytes(32).toString("hex");
    const config = containerConfig(image.config.config, opts, id, networkMode);
    const name = opts.name ?? generateContainerName((n) => this.store.nameTaken(n));
    const rec: ContainerRecord = {
      id,
      name: name.startsWith("/") ? name.slice(1) : name,
      imageId: image.id,
      driver: this.runner.driverName,
      created: new Date(),
      config,
      hostConfig,
      state: { status: "created" },
    };
    this.store.insert(rec);
    try {
      const top = await this.images.unpacker.unpack(image.layers, undefined, opts.onProgress);
      const initMounts = await this.snapshotter.prepare(initLayerKey(id), top);
      try {
        await this.mounts.withTempMount(initMounts, async (dir) => fillInitLayer(dir));
        await this.snapshotter.commit(initLayerName(id), initLayerKey(id));
      } catch (err) {
        await this.snapshotter.remove(initLayerKey(id)).catch(() => {});
        throw err;
      }
      await this.snapshotter.prepare(containerKey(id), initLayerName(id));
      await fs.promises.mkdir(this.runner.layout.rootfs(id), { recursive: true });
    } catch (err) {
      await this.destroy(rec).catch(() => {});
      throw err;
    }
    return rec;
  }

  /**
   * Find a container (`docker`'s rules: ID, name, ID prefix) and bring its state up to date.
   * @throws NotFoundError `No such container: <ref>`.
   */
  async get(ref: string): Promise<ContainerRecord> {
    return this.runner.reconcile(this.store.get(ref));
  }

  /** Every container, newest first, states brought up to date. */
  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const rec of this.store.list()) out.push(await this.runner.reconcile(rec));
    return out;
  }

  /**
   * The container in docker's `container inspect` JSON shape (its snapshot's directories
   * when the selected driver holds it).
   * @throws NotFoundError `No such container: <ref>`.
   */
  async inspect(ref: string): Promise<Record<string, unknown>> {
    const rec = await this.get(ref);
    const rt = rec.state.status === "running" ? await this.runner.runc.state(rec.id) : undefined;
    const mounts =
      rec.driver === this.runner.driverName
        ? await this.snapshotter.mounts(containerKey(rec.id)).catch(() => [])
        : [];
    return containerInspect(rec, this.runner.layout, {
      ...(rt ? { status: rt.status } : {}),
      pid: rt?.pid ?? 0,
      mounts,
    });
  }

  /**
   * Start a container in the background (`docker start`, `run -d`): `launch` starts the
   * detached supervisor, and this returns once runc runs the command (or it already ended).
   * Starting a running container does nothing, as in docker.
   * @throws CommandNotRunnableError or FailedPreconditionError when it cannot start.
   */
  async startDetached(rec: ContainerRecord, launch: SupervisorLauncher): Promise<void> {
    this.runner.checkDriver(rec);
    const now = await this.runner.reconcile(rec);
    if (now.state.status === "running") return;
    await this.runner.runc.path();
    const attempt = ContainerRunner.newAttempt();
    const pid = await launch(rec.id, attempt);
    await this.runner.waitStarted(rec.id, attempt, pid);
  }

  /**
   * Stop a container (`docker stop`): its stop signal (SIGTERM unless the image says
   * otherwise), then SIGKILL after `timeoutSec` seconds (negative: wait for ever).
   * Stopping a container that does not run does nothing.
   */
  async stop(rec: ContainerRecord, timeoutSec = 10, signal?: string): Promise<void> {
    this.runner.checkDriver(rec);
    const now = await this.runner.reconcile(rec);
    if (now.state.status !== "running") return;
    const { runc } = this.runner;
    if ((await this.runner.runtimeStatus(rec.id)) === "paused") await runc.resume(rec.id);
    await runc.kill(rec.id, normalizeSignal(signal ?? (rec.config.StopSignal || "SIGTERM")));
    if (await this.runner.waitStopped(rec.id, timeoutSec < 0 ? -1 : timeoutSec * 1000)) return;
    await runc.kill(rec.id, "SIGKILL", true);
    if (!(await this.runner.waitStopped(rec.id, 30_000))) {
      throw new UnavailableError(`container ${rec.name}: did not stop after SIGKILL`);
    }
  }

  /**
   * Send a signal to a running container's main process (`docker kill`; default SIGKILL).
   * @throws FailedPreconditionError when it does not run; InvalidArgumentError for a bad signal.
   */
  async kill(rec: ContainerRecord, ref: string, signal = "SIGKILL"): Promise<void> {
    const sig = normalizeSignal(signal);
    this.runner.checkDriver(rec);
    const now = await this.runner.reconcile(rec);
    if (now.state.status !== "running" || !(await this.runner.runc.kill(rec.id, sig))) {
      throw new FailedPreconditionError(
        `cannot kill container: ${ref}: container ${rec.id} is not running`,
      );
    }
    if (sig === "SIGKILL") await this.runner.waitStopped(rec.id, 30_000);
  }

  /**
   * Freeze every process of a running container (`docker pause`, runc's freezer).
   * @throws FailedPreconditionError when it does not run or is paused already.
   */
  async pause(rec: ContainerRecord): Promise<void> {
    this.runner.checkDriver(rec);
    const rt = await this.runtimeOf(rec);
    if (rt === "paused") throw new FailedPreconditionError(`container ${rec.id} is already paused`);
    await this.runner.runc.pause(rec.id);
  }

  /**
   * Thaw a paused container (`docker unpause`).
   * @throws FailedPreconditionError when it is not paused.
   */
  async unpause(rec: ContainerRecord): Promise<void> {
    this.runner.checkDriver(rec);
    if ((await this.runtimeOf(rec)) !== "paused") {
      throw new FailedPreconditionError(`container ${rec.id} is not paused`);
    }
    await this.runner.runc.resume(rec.id);
  }

  /** runc's status of a container that must be running. */
  private async runtimeOf(rec: ContainerRecord): Promise<string | undefined> {
    const now = await this.runner.reconcile(rec);
    if (now.state.status !== "running") {
      throw new FailedPreconditionError(`container ${rec.id} is not running`);
    }
    return this.runner.runtimeStatus(rec.id);
  }

  /**
   * Block until a container stops (`docker wait`) and return its exit code; a container
   * that does not run answers at once with its last one.
   */
  async wait(rec: ContainerRecord): Promise<number> {
    await this.runner.waitStopped(rec.id, -1);
    return this.store.byId(rec.id)?.state.exitCode ?? 0;
  }

  /**
   * Remove a container (`docker rm`): refuses a running one unless `force`, which kills it.
   * @throws FailedPreconditionError for a running container without `force`.
   */
  async remove(rec: ContainerRecord, force = false): Promise<void> {
    this.runner.checkDriver(rec);
    const now = await this.runner.reconcile(rec);
    if (now.state.status === "running") {
      if (!force) {
        throw new FailedPreconditionError(
          `cannot remove container "/${rec.name}": container is running: stop the container before removing or force remove`,
        );
      }
      if ((await this.runner.runtimeStatus(rec.id)) === "paused")
        await this.runner.runc.resume(rec.id);
      await this.runner.runc.kill(rec.id, "SIGKILL", true);
      if (!(await this.runner.waitStopped(rec.id, 30_000))) {
        throw new UnavailableError(`container ${rec.name}: did not stop after SIGKILL`);
      }
    }
    await this.destroy(rec);
  }

  /** Delete what makes up a stopped container: runc state, mount, snapshots, files, row. */
  async destroy(rec: ContainerRecord): Promise<void> {
    const { layout, runc } = this.runner;
    if (await runc.path().catch(() => undefined)) await runc.delete(rec.id);
    const rootfs = layout.rootfs(rec.id);
    if (await isMountPoint(rootfs)) await this.mounts.unmount(rootfs);
    for (const key of [containerKey(rec.id), initLayerKey(rec.id), initLayerName(rec.id)]) {
      try {
        await this.snapshotter.remove(key);
      } catch (err) {
        if (!isErrorCode(err, "NOT_FOUND")) throw err;
      }
    }
    await fs.promises.rm(layout.bundle(rec.id), { recursive: true, force: true });
    this.store.delete(rec.id);
  }

  /**
   * Run a command in a running container (`docker exec`) and return its exit code.
   * @throws FailedPreconditionError when the container does not run or is paused.
   * @throws CommandNotRunnableError when the command cannot be executed (126/127).
   */
  async exec(rec: ContainerRecord, cmd: string[], opts: ExecOptions = {}): Promise<number> {
    this.runner.checkDriver(rec);
    const now = await this.runner.reconcile(rec);
    if (now.state.status !== "running") {
      throw new FailedPreconditionError(`container ${rec.id} is not running`);
    }
    const { runc, layout } = this.runner;
    if ((await this.runner.runtimeStatus(rec.id)) === "paused") {
      throw new FailedPreconditionError(
        `container ${rec.id} is paused, unpause the container before exec`,
      );
    }
    const rootfs = layout.rootfs(rec.id);
    const { config } = rec;
    const hostname = config.Hostname || rec.id.slice(0, 12);
    const env = mergeEnv(containerEnv(config.Env ?? [], hostname, !!opts.tty), opts.env ?? []);
    const cwd = opts.workdir || config.WorkingDir || "/";
    const user = lookupUser(rootfs, opts.user ?? config.User ?? "");
    checkExecutable(rootfs, cmd[0] ?? "", env, cwd);
    const proc = ociProcess({ args: cmd, env, cwd, user, terminal: !!opts.tty });
    const file = path.join(layout.bundle(rec.id), `exec-${randomBytes(6).toString("hex")}.json`);
    fs.writeFileSync(file, JSON.stringify(proc));
    try {
      const child = spawn(
        await runc.path(),
        runc.execArgs(rec.id, file, { tty: !!opts.tty, detach: !!opts.detach }),
        { stdio: [opts.interactive ? "inherit" : "ignore", "inherit", "inherit"] },
      );
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
        child.on("exit", (c, s) => resolve([c, s])),
      );
      return code ?? 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
}
