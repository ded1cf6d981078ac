import type { ContainerRecord, ContainerService, DependencyContainer } from "@strata/core";
import type { Composition } from "../../container.js";
import { MultiError, reportError } from "../../errors.js";
import { type Core, StrataCommand } from "../strata-command.js";

/** A container found by reference, with the DI container of the driver that holds it. */
export interface FoundContainer {
  rec: ContainerRecord;
  di: DependencyContainer;
}

/**
 * Base class of the container commands. A container lives on the storage driver it was
 * created with; {@link find} switches to that driver when the user did not ask for one
 * (`--storage-driver`, `STRATA_STORAGE_DRIVER`), so `strata rm c1` works whatever the
 * store's last driver is. With an explicit other driver, the service says which to use.
 */
export abstract class ContainerCommand extends StrataCommand {
  private readonly extra = new Map<string, Composition>();

  /** The command's work; {@link execute} releases the extra driver compositions after it. */
  protected abstract run(): Promise<number>;

  async execute(): Promise<number> {
    try {
      return await this.run();
    } finally {
      for (const c of this.extra.values()) await c.dispose().catch(() => {});
      this.extra.clear();
    }
  }

  /** `@strata/core`, loaded lazily. */
  protected core(): Promise<Core> {
    return import("@strata/core");
  }

  /**
   * Find a container (ID, name or ID prefix) and the DI container of its driver.
   * @throws NotFoundError `No such container: <ref>`.
   */
  protected async find(ref: string): Promise<FoundContainer> {
    const [core, di] = await Promise.all([this.core(), this.context.container()]);
    const rec = di.resolve(core.ContainerStore).get(ref);
    return { rec, di: await this.diFor(rec.driver, di) };
  }

  /**
   * Apply `fn` to each container named, printing each name as given once done, and fail
   * at the end with every error (docker's multi-container commands go on after a failure).
   */
  protected async eachContainer(
    refs: readonly string[],
    fn: (
      service: ContainerService,
      rec: ContainerRecord,
      di: DependencyContainer,
      ref: string,
    ) => Promise<unknown>,
  ): Promise<number> {
    const core = await this.core();
    const errors: Error[] = [];
    for (const ref of refs) {
      try {
        const { rec, di } = await this.find(ref);
        await fn(di.resolve(core.ContainerService), rec, di, ref);
        this.print(`${ref}\n`);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (errors.length > 0) throw new MultiError(errors);
    return 0;
  }

  /** The DI container for `driver`: the selected one, or one built for it when allowed. */
  protected async diFor(driver: string, di: DependencyContainer): Promise<DependencyContainer> {
    const current = await this.context.driverName();
    if (driver === current || this.context.globals.storageDriver !== undefined) return di;
    let comp = this.extra.get(driver);
    if (!comp) {
      const { createContainer } = await import("../../container.js");
      const { globals } = this.context;
      comp = await createContainer({
        root: globals.root,
        storageDriver: driver,
        storageOpts: globals.storageOpts,
        recordDriverUse: false,
      });
      this.extra.set(driver, comp);
    }
    return comp.container;
  }

  /**
   * Report `err` as `main` would, and answer with docker's exit code for a failed
   * `run`/`create`/`start`: the command's own code (126, 127) when it could not be
   * executed, else `fallback` (125: strata's own error).
   */
  protected async fail(err: unknown, fallback = 125): Promise<number> {
    const core = await this.core();
    await reportError(err, {
      stderr: this.context.stderr,
      commandPath: this.path.join(" "),
      debug: this.context.globals.debug,
    });
    if (err instanceof core.CommandNotRunnableError) return err.exitCode;
    return fallback;
  }
}
