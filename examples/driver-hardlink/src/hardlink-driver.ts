import * as fs from "node:fs/promises";
import * as path from "node:path";
import {
  assertSlotFree,
  type DependencyContainer,
  DRIVER_CONTRACT_VERSION,
  type DriverContext,
  type DriverModule,
  NotSupportedError,
  Tokens,
} from "@strata/core";
import { HardlinkSnapshotter } from "./hardlink-snapshotter.js";

/**
 * The hardlink driver module (`strata --storage-driver strata-driver-hardlink`). It needs
 * a filesystem with hardlinks, which its probe checks in the driver's own root. It only
 * registers a snapshotter: core's naive differ serves as its differ. Priority 250 puts it
 * after overlay and aufs and before vfs when strata picks a driver on its own.
 */
export const driver: DriverModule = {
  name: "hardlink",
  contractVersion: DRIVER_CONTRACT_VERSION,
  priority: 250,

  /**
   * Check that the store's filesystem makes hardlinks.
   * @throws NotSupportedError when it does not.
   */
  async probe(ctx: DriverContext): Promise<void> {
    await fs.mkdir(ctx.root, { recursive: true, mode: 0o700 });
    const probe = await fs.mkdtemp(path.join(ctx.root, "probe-"));
    try {
      await fs.writeFile(path.join(probe, "a"), "");
      await fs.link(path.join(probe, "a"), path.join(probe, "b"));
    } catch (err) {
      throw new NotSupportedError(
        `hardlink: ${ctx.root} cannot hold hardlinks: ${(err as Error).message}`,
      );
    } finally {
      await fs.rm(probe, { recursive: true, force: true });
    }
  },

  /**
   * Bind a {@link HardlinkSnapshotter} on `ctx.root` to `Tokens.Snapshotter`.
   * @throws AlreadyExistsError when `container` already has a snapshotter registered.
   */
  register(container: DependencyContainer, ctx: DriverContext): void {
    assertSlotFree(container, Tokens.Snapshotter, "hardlink");
    container.register(Tokens.Snapshotter, { useValue: new HardlinkSnapshotter(ctx.root) });
  },
};

export default driver;
