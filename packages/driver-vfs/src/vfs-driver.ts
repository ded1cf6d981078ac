import {
  AlreadyExistsError,
  type DependencyContainer,
  DRIVER_CONTRACT_VERSION,
  type DriverContext,
  type DriverModule,
  Tokens,
} from "@strata/core";
import { VfsSnapshotter } from "./vfs-snapshotter.js";

/**
 * The vfs driver module: full copies in plain directories. It works everywhere, so its
 * probe never fails and it comes last in auto-selection (priority 300). It registers only
 * a snapshotter; core's naive differ serves as its differ.
 */
export const vfsDriver: DriverModule = {
  name: "vfs",
  contractVersion: DRIVER_CONTRACT_VERSION,
  priority: 300,

  /** vfs needs nothing from the kernel or the filesystem. */
  async probe(_ctx: DriverContext): Promise<void> {},

  /**
   * Bind a {@link VfsSnapshotter} on `ctx.root` to `Tokens.Snapshotter` in `container`.
   * @throws AlreadyExistsError when `container` already has a snapshotter registered.
   */
  register(container: DependencyContainer, ctx: DriverContext): void {
    if (container.isRegistered(Tokens.Snapshotter)) {
      throw new AlreadyExistsError(
        `driver "vfs": a snapshotter is already registered in this container`,
      );
    }
    container.register(Tokens.Snapshotter, { useValue: new VfsSnapshotter(ctx.root) });
  },
};
