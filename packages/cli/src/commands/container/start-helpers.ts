import type { ContainerRecord, DependencyContainer } from "@strata/core";
import type { StrataContext } from "../../context.js";

/**
 * Start a container in the background through a detached supervisor, and return once
 * runc runs it (`run -d`, `start`).
 * @throws CommandNotRunnableError / FailedPreconditionError when it could not start.
 */
export async function startInBackground(
  ctx: StrataContext,
  di: DependencyContainer,
  rec: ContainerRecord,
): Promise<void> {
  const [core, { launchSupervisor }] = await Promise.all([
    import("@strata/core"),
    import("../../supervisor.js"),
  ]);
  const service = di.resolve(core.ContainerService);
  const { globals } = ctx;
  const root = di.resolve(core.Tokens.StoreRoot);
  await service.startDetached(rec, (id, attempt) =>
    launchSupervisor({
      root,
      driver: rec.driver,
      storageOpts: globals.storageOpts,
      id,
      attempt,
      logFile: service.runner.layout.supervisorLog(id),
    }),
  );
}

/**
 * Run a container attached to strata's terminal until it exits (`run` without `-d`,
 * `start -a`): signals strata gets go to the container, and with `--rm` the container is
 * removed afterwards.
 * @returns the container's exit code.
 */
export async function runAttached(
  ctx: StrataContext,
  di: DependencyContainer,
  rec: ContainerRecord,
  stdin: boolean,
): Promise<number> {
  const core = await import("@strata/core");
  const service = di.resolve(core.ContainerService);
  try {
    return await service.runner.run(rec.id, {
      attach: { stdin, stdout: ctx.stdout, stderr: ctx.stderr },
      forwardSignals: true,
    });
  } finally {
    if (rec.hostConfig.autoRemove) {
      const now = service.store.byId(rec.id);
      if (now && now.state.status !== "running") await service.destroy(now);
    }
  }
}
