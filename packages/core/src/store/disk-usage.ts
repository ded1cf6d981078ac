import { inject, injectable } from "tsyringe";
import { containerKey } from "../container/container-layout.js";
import { ContainerService } from "../container/container-service.js";
import type { ContainerRecord } from "../container/container-types.js";
import type { DriverContext } from "../driver/driver-module.js";
import { ImageStore } from "../image/image-store.js";
import type { ImageRecord } from "../image/image-types.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { Tokens } from "../tokens.js";

/** An image with what docker's `SharedSize` and `Containers` say about it. */
export interface ImageUsage {
  image: ImageRecord;
  /** Bytes of this image's layers that other images also use (docker's `SharedSize`). */
  sharedSize: number;
  /** Number of containers created from the image. */
  containers: number;
}

/** A container with the size of its writable layer. */
export interface ContainerUsage {
  container: ContainerRecord;
  /**
   * Bytes in the container's writable layer (docker's `SizeRw`); undefined when it lives
   * on another storage driver than the one in use, whose snapshots cannot be measured.
   */
  sizeRw?: number;
}

/** What `system df` reports: docker's `DiskUsage` for images, containers and build cache. */
export interface DiskUsageReport {
  images: ImageUsage[];
  /** Bytes of every distinct layer, each counted once however many images share it. */
  layersSize: number;
  /** Bytes of distinct layers that no image used by a container needs. */
  imagesReclaimable: number;
  /** Images used by at least one container. */
  activeImages: number;
  containers: ContainerUsage[];
  /** Sum of the containers' writable layers. */
  containersSize: number;
  /** Bytes in the writable layers of containers that do not run. */
  containersReclaimable: number;
  /** Running containers. */
  activeContainers: number;
  /** strata has no build cache yet: always zero. */
  buildCacheSize: number;
}

/**
 * Shared sizes of images (docker's `SharedSize`): a layer, by chain ID, is shared when
 * more than one of `images` has it. `containersByImage` counts containers per image ID.
 */
export function imageUsage(
  images: readonly ImageRecord[],
  containersByImage: ReadonlyMap<string, number> = new Map(),
): ImageUsage[] {
  const refs = new Map<string, number>();
  for (const img of images) {
    for (const l of img.layers) refs.set(l.chainId, (refs.get(l.chainId) ?? 0) + 1);
  }
  return images.map((image) => ({
    image,
    sharedSize: image.layers
      .filter((l) => (refs.get(l.chainId) ?? 0) > 1)
      .reduce((n, l) => n + l.size, 0),
    containers: containersByImage.get(image.id) ?? 0,
  }));
}

/**
 * Disk usage of the store as `docker system df` reports it. Image sizes are docker's:
 * bytes of the files each layer holds; a layer shared by several images is counted once
 * in the total and in what is reclaimable.
 */
@injectable()
export class DiskUsageService {
  constructor(
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(ContainerService) private readonly containers: ContainerService,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(Tokens.DriverContext) private readonly driver: DriverContext,
  ) {}

  /** Count what the store holds and what a prune could free. */
  async usage(): Promise<DiskUsageReport> {
    const [images, containers] = await Promise.all([this.images.list(), this.containers.list()]);
    const byImage = new Map<string, number>();
    for (const c of containers) byImage.set(c.imageId, (byImage.get(c.imageId) ?? 0) + 1);

    const layerSizes = new Map<string, number>();
    const usedLayers = new Set<string>();
    for (const img of images) {
      for (const l of img.layers) {
        layerSizes.set(l.chainId, l.size);
        if (byImage.has(img.id)) usedLayers.add(l.chainId);
      }
    }
    let layersSize = 0;
    let imagesReclaimable = 0;
    for (const [chain, size] of layerSizes) {
      layersSize += size;
      if (!usedLayers.has(chain)) imagesReclaimable += size;
    }

    const usages: ContainerUsage[] = [];
    let containersSize = 0;
    let containersReclaimable = 0;
    for (const container of containers) {
      const sizeRw = await this.sizeRw(container);
      usages.push(sizeRw === undefined ? { container } : { container, sizeRw });
      containersSize += sizeRw ?? 0;
      if (container.state.status !== "running") containersReclaimable += sizeRw ?? 0;
    }

    return {
      images: imageUsage(images, byImage),
      layersSize,
      imagesReclaimable,
      activeImages: images.filter((i) => byImage.has(i.id)).length,
      containers: usages,
      containersSize,
      containersReclaimable,
      activeContainers: containers.filter((c) => c.state.status === "running").length,
      buildCacheSize: 0,
    };
  }

  /** Bytes in a container's writable layer, when it is on the driver in use. */
  async sizeRw(container: ContainerRecord): Promise<number | undefined> {
    if (container.driver !== this.driver.name) return undefined;
    try {
      return (await this.snapshotter.usage(containerKey(container.id))).size;
    } catch {
      return undefined;
    }
  }
}
