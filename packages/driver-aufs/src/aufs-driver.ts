import {
  assertSlotFree,
  ContentStore,
  type DependencyContainer,
  type Differ,
  DRIVER_CONTRACT_VERSION,
  type DriverContext,
  type DriverModule,
  MountManager,
  NaiveDiffer,
  Tokens,
} from "@strata/core";
import { AufsDiffer } from "./aufs-differ.js";
import { probeAufs } from "./aufs-probe.js";
import { AufsSnapshotter } from "./aufs-snapshotter.js";

/**
 * The aufs driver module: AUFS-semantics unions served over FUSE by a helper process per
 * mount, tried after overlay in auto-selection (priority 200). Its probe mounts a real
 * union and answers "not supported" with the reason when that fails (not root, no FUSE,
 * the native helper not built); a passed probe is remembered in the root until the kernel,
 * the boot, the backing filesystem or the helper's files change. It registers the snapshotter, the native
 * {@link AufsDiffer} (core's naive differ as its fallback) and the `fuse.aufs` mount
 * handler, which core's mount manager collects.
 */
export const aufsDriver: DriverModule = {
  name: "aufs",
  contractVersion: DRIVER_CONTRACT_VERSION,
  priority: 200,

  async probe(ctx: DriverContext): Promise<void> {
    await probeAufs(ctx.root, { cache: true });
  },

  register(container: DependencyContainer, ctx: DriverContext): void {
    assertSlotFree(container, Tokens.Snapshotter, "aufs");
    const snapshotter = new AufsSnapshotter(ctx.root);
    container.register(Tokens.Snapshotter, { useValue: snapshotter });
    container.register(Tokens.MountHandler, { useValue: snapshotter.mountHandler });
    let differ: Differ | undefined;
    container.register(Tokens.Differ, {
      useFactory: (c) => {
        differ ??= new AufsDiffer(
          c.resolve(ContentStore),
          new NaiveDiffer(c.resolve(ContentStore), c.resolve(MountManager)),
        );
        return differ;
      },
    });
  },
};
