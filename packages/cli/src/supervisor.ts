/**
 * The detached supervisor of a container started in the background (`run -d`, `start`):
 * a process of its own (its own session, no terminal) that outlives the `strata` command
 * which launched it. It runs `runc run` for the container to its end (writing the output
 * to the container's json-file log), records the exit code, unmounts the rootfs, and
 * removes the container when it was made with `--rm`.
 *
 * Launched as `node supervisor.js ROOT DRIVER STORAGE_OPTS_JSON ID ATTEMPT` by
 * {@link launchSupervisor}; whatever it prints itself goes to the container's
 * `supervisor.log`.
 */
import "reflect-metadata";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Start the supervisor of start attempt `attempt` of container `id` and return its pid.
 * It is detached (a new session) and unreferenced: this process may exit at once.
 */
export async function launchSupervisor(args: {
  root: string;
  driver: string;
  storageOpts: Record<string, string>;
  id: string;
  attempt: string;
  logFile: string;
}): Promise<number> {
  const script = fileURLToPath(new URL("./supervisor.js", import.meta.url));
  const fd = fs.openSync(args.logFile, "a", 0o640);
  try {
    const child = spawn(
      process.execPath,
      [script, args.root, args.driver, JSON.stringify(args.storageOpts), args.id, args.attempt],
      { detached: true, stdio: ["ignore", fd, fd] },
    );
    const pid = child.pid;
    if (pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once("error", resolve));
      throw err;
    }
    child.unref();
    return pid;
  } finally {
    fs.closeSync(fd);
  }
}

async function supervise(argv: string[]): Promise<number> {
  const [root, driver, opts, id, attempt] = argv;
  if (!root || !driver || !opts || !id || !attempt) {
    process.stderr.write("usage: supervisor.js ROOT DRIVER STORAGE_OPTS_JSON ID ATTEMPT\n");
    return 2;
  }
  const [{ createContainer }, core] = await Promise.all([
    import("./container.js"),
    import("@strata/core"),
  ]);
  const comp = await createContainer({
    root,
    storageDriver: driver,
    storageOpts: JSON.parse(opts) as Record<string, string>,
    recordDriverUse: false,
  });
  try {
    const runner = comp.container.resolve(core.ContainerRunner);
    const service = comp.container.resolve(core.ContainerService);
    let code = 0;
    try {
      code = await runner.run(id, { attempt });
    } catch (err) {
      // Recorded in the container's state, where the launching command reads it.
      process.stderr.write(`${new Date().toISOString()} ${id}: ${String(err)}\n`);
      code = 125;
    }
    const rec = service.store.byId(id);
    if (rec?.hostConfig.autoRemove && rec.state.status !== "running") await service.destroy(rec);
    return code;
  } finally {
    await comp.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  // Never die of a hang-up or of a terminal's signal: the container outlives its starter.
  process.on("SIGHUP", () => {});
  process.on("SIGINT", () => {});
  supervise(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${new Date().toISOString()} supervisor: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
