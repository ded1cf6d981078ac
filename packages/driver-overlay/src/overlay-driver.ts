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
import { OverlayDiffer } from "./overlay-differ.js";
import { type OverlayProbeResult, probeOverlay } from "./overlay-probe.js";
import { OverlaySnapshotter } from "./overlay-snapshotter.js";

/** Probe results by driver root, so `register` knows whether native diff is safe. */
const probed = new Map<string, OverlayProbeResult>();

/**
 * The overlay driver module: kernel overlayfs, tried first in auto-selection (priority
 * 100). Its probe mounts a real overlay under the driver's root and answers "not
 * supported" with the reason when that fails (not root, no overlay in the kernel, a
 * backing filesystem that cannot be an upper); a passed probe is remembered in the root
 * until the kernel, the boot or the backing filesystem changes. It registers the snapshotter and, when the
 * probe found native diff safe, the native {@link OverlayDiffer}; else core's naive one.
 */
export const overlayDriver: DriverModule = {
  name: "overlay",
  contractVersion: DRIVER_CONTRACT_VERSION,
  priority: 100,

  async probe(ctx: DriverContext): Promise<void> {
    probed.set(ctx.root, await probeOverlay(ctx.root, { cache: true }));
  },

  register(container: DependencyContainer, ctx: DriverContext): void {
    assertSlotFree(container, Tokens.Snapshotter, "overlay");
    const result = probed.get(ctx.root);
    const snapshotter = new OverlaySnapshotter(ctx.root, result);
    container.register(Tokens.Snapshotter, { useValue: snapshotter });
    let differ: Differ | undefined;
    container.register(Tokens.Differ, {
      useFactory: (c) => {
        if (!differ) {
          const store = c.resolve(ContentStore);
          const naive = new NaiveDiffer(store, c.resolve(MountManager));
          differ = result?.nativeDiff ? new OverlayDiffer(store, naive) : naive;
        }
        return differ;
      },
    });
  },
};
