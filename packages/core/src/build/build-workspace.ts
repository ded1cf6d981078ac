import type { Writable } from "node:stream";
import { inject, injectable } from "tsyringe";
import { buildContainerName } from "../container/build-container-name.js";
import { containerKey, initLayerName } from "../container/container-layout.js";
import { ContainerRunner } from "../container/container-runner.js";
import { ContainerService } from "../container/container-service.js";
import type { ContainerRecord } from "../container/container-types.js";
import type { Descriptor } from "../content/descriptor.js";
import type { Differ } from "../diff/differ.js";
import { ANNOTATION_LAYER_ENTRIES } from "../diff/layer-blob.js";
import type { LayerRecord } from "../image/image-types.js";
import { LayerUnpacker } from "../image/layer-unpacker.js";
import { MediaTypes } from "../image/media-types.js";
import type { Mount } from "../mount/mount.js";
import { MountManager } from "../mount/mount-manager.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { tempSnapshotKey } from "../snapshots/temp-snapshot-key.js";
import { Tokens } from "../tokens.js";

/** A layer a build step wrote: its blob and what the image store needs. */
export interface StepLayer {
  diffId: string;
  blob: Descriptor;
  size: number;
}

/** Options of {@link BuildWorkspace.run}. */
export interface BuildRunOptions {
  /** The image the container runs (the step's parent). */
  imageId: string;
  argv: string[];
  /** Build args given to the command's environment (`K=V`). */
  env: string[];
  network?: string;
  out: Writable;
  /** Called once the container exists (docker's ` ---> Running in <id>`). */
  onCreated?: (rec: ContainerRecord) => void;
}

/**
 * Where build steps touch a filesystem: a writable snapshot on the selected driver for
 * COPY, ADD and WORKDIR (its changes diffed into a layer), a real container run by runc
 * for RUN (its changes, against its init layer, become the layer), and read-only views of
 * images for `COPY --from`.
 * @experimental
 */
@injectable()
export class BuildWorkspace {
  constructor(
    @inject(ContainerService) private readonly containers: ContainerService,
    @inject(ContainerRunner) private readonly runner: ContainerRunner,
    @inject(LayerUnpacker) private readonly unpacker: LayerUnpacker,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(Tokens.Differ) private readonly differ: Differ,
    @inject(MountManager) private readonly mounts: MountManager,
  ) {}

  /**
   * Run `fn` on a writable copy of the image made of `layers` (mounted at a temporary
   * directory), then diff it against them.
   * @returns the layer, or undefined when `fn` changed nothing (docker's empty layer).
   */
  async change(
    layers: readonly LayerRecord[],
    fn: (rootfs: string) => Promise<void>,
  ): Promise<StepLayer | undefined> {
    const parent = layers.length > 0 ? await this.unpacker.unpack(layers) : undefined;
    const key = tempSnapshotKey("extract", "build step");
    const upper = await this.snapshotter.prepare(key, parent);
    try {
      await this.mounts.withTempMount(upper, fn);
      return await this.diffAgainst(parent, upper);
    } finally {
      await this.snapshotter.remove(key).catch(() => {});
    }
  }

  /** Run `fn` with a read-only view of the image made of `layers` (`COPY --from`). */
  async view<T>(layers: readonly LayerRecord[], fn: (rootfs: string) => Promise<T>): Promise<T> {
    const parent = layers.length > 0 ? await this.unpacker.unpack(layers) : undefined;
    const key = tempSnapshotKey("view", "build step");
    const mounts = await this.snapshotter.view(key, parent);
    try {
      return await this.mounts.withTempMount(mounts, fn);
    } finally {
      await this.snapshotter.remove(key).catch(() => {});
    }
  }

  /**
   * Run a RUN step's command in a container of `imageId` with real runc, its output
   * streamed to `out`, and diff its changes. The container is removed in every case.
   * @returns the exit code and, when it is 0, the layer (undefined when nothing changed).
   */
  async run(
    opts: BuildRunOptions,
  ): Promise<{ code: number; layer?: StepLayer | undefined; containerId: string }> {
    const rec = await this.containers.create({
      name: buildContainerName(),
      image: opts.imageId,
      cmd: opts.argv,
      entrypoint: "",
      env: opts.env,
      ...(opts.network !== undefined ? { network: opts.network } : {}),
    });
    try {
      opts.onCreated?.(rec);
      const code = await this.runner.run(rec.id, {
        attach: { stdin: false, stdout: opts.out, stderr: opts.out },
        // Ctrl-C reaches the command, whose failure then ends the build and cleans up.
        forwardSignals: true,
      });
      if (code !== 0) return { code, containerId: rec.id };
      const key = tempSnapshotKey("view", "build step");
      const lower = await this.snapshotter.view(key, initLayerName(rec.id));
      try {
        const upper = await this.snapshotter.mounts(containerKey(rec.id));
        return { code, layer: await this.diffMounts(lower, upper), containerId: rec.id };
      } finally {
        await this.snapshotter.remove(key).catch(() => {});
      }
    } finally {
      const now = this.containers.store.byId(rec.id);
      if (now) await this.containers.destroy(now);
    }
  }

  private async diffAgainst(
    parent: string | undefined,
    upper: Mount[],
  ): Promise<StepLayer | undefined> {
    const key = tempSnapshotKey("view", "build step");
    const lower = await this.snapshotter.view(key, parent);
    try {
      return await this.diffMounts(lower, upper);
    } finally {
      await this.snapshotter.remove(key).catch(() => {});
    }
  }

  private async diffMounts(lower: Mount[], upper: Mount[]): Promise<StepLayer | undefined> {
    const desc = await this.differ.diff(lower, upper, { mediaType: MediaTypes.DockerLayer });
    if (desc.annotations?.[ANNOTATION_LAYER_ENTRIES] === "0") return undefined;
    const size = Number(desc.annotations?.["io.strata.layer.size"] ?? 0);
    return {
      diffId: desc.digest,
      blob: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
      size,
    };
  }
}
