import { once } from "node:events";
import type { Writable } from "node:stream";
import { inject, injectable } from "tsyringe";
import { HashPipe } from "../content/hash-pipe.js";
import type { Differ } from "../diff/differ.js";
import { ANNOTATION_LAYER_SIZE } from "../diff/layer-blob.js";
import { listChanges } from "../diff/list-changes.js";
import { walkChanges } from "../diff/walk-changes.js";
import { writeLayerTar } from "../diff/write-layer-tar.js";
import { applyConfigChanges } from "../image/config-changes.js";
import { ImageStore } from "../image/image-store.js";
import type { ImageConfig, ImageRecord } from "../image/image-types.js";
import { MediaTypes } from "../image/media-types.js";
import { parseTagTarget } from "../image/reference.js";
import type { Mount } from "../mount/mount.js";
import { isMountPoint, MountManager } from "../mount/mount-manager.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { tempSnapshotKey } from "../snapshots/temp-snapshot-key.js";
import { Tokens } from "../tokens.js";
import type { ByteSink } from "../util/byte-sink.js";
import { containerKey, initLayerName } from "./container-layout.js";
import { ContainerRunner } from "./container-runner.js";
import {
  type CommitOptions,
  type ContainerChange,
  type ContainerRecord,
  containerCommand,
} from "./container-types.js";

/**
 * A container's filesystem as docker's `diff`, `commit` and `export` see it. Changes are
 * always taken against the container's init layer, so runc's mount points never count.
 * `diff` reads the differ's own change list (overlay: its upper directory, in time that
 * grows with the change, not the image); `commit` lets the differ write the layer blob in
 * one pass (walk, tar, hash, store).
 */
@injectable()
export class ContainerFilesystem {
  constructor(
    @inject(ContainerRunner) private readonly runner: ContainerRunner,
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(Tokens.Differ) private readonly differ: Differ,
    @inject(MountManager) private readonly mounts: MountManager,
  ) {}

  /** Run `fn` with a read-only view of the container's init layer (the lower side). */
  private async withBase<T>(rec: ContainerRecord, fn: (lower: Mount[]) => Promise<T>): Promise<T> {
    this.runner.checkDriver(rec);
    const key = tempSnapshotKey("view", rec.id);
    const lower = await this.snapshotter.view(key, initLayerName(rec.id));
    try {
      return await fn(lower);
    } finally {
      await this.snapshotter.remove(key).catch(() => {});
    }
  }

  /**
   * The changes in a container's filesystem as `docker diff` lists them (`A`dded,
   * `C`hanged, `D`eleted), sorted by path.
   */
  async diff(rec: ContainerRecord): Promise<ContainerChange[]> {
    return this.withBase(rec, async (lower) =>
      listChanges(
        this.differ,
        this.mounts,
        lower,
        await this.snapshotter.mounts(containerKey(rec.id)),
      ),
    );
  }

  /**
   * Make a new image of the container's changes (`docker commit`): the image's layers plus
   * one holding the changes, with the container's config (and `changes` applied) and a
   * history entry. A running container is paused (runc's freezer) while its layer is
   * written, unless `pause` is false.
   */
  async commit(rec: ContainerRecord, opts: CommitOptions = {}): Promise<ImageRecord> {
    HashPipe.warm(); // the layer is hashed on a worker: let it start while we mount
    const tags = opts.reference ? [parseTagTarget(opts.reference)] : [];
    const config = applyConfigChanges(rec.config, opts.changes ?? []);
    const image = await this.images.resolve(rec.imageId);
    const now = await this.runner.reconcile(rec);
    const { runc } = this.runner;
    const pause =
      opts.pause !== false &&
      now.state.status === "running" &&
      (await this.runner.runtimeStatus(rec.id)) === "running";
    if (pause) await runc.pause(rec.id);
    let desc: Awaited<ReturnType<Differ["diff"]>>;
    try {
      desc = await this.withBase(rec, async (lower) =>
        this.differ.diff(lower, await this.snapshotter.mounts(containerKey(rec.id)), {
          mediaType: MediaTypes.DockerLayer,
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        }),
      );
    } finally {
      if (pause) await runc.resume(rec.id);
    }
    const created = new Date().toISOString();
    const base = image.config;
    const newConfig: ImageConfig = {
      architecture: base.architecture,
      ...(base.variant ? { variant: base.variant } : {}),
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.message ? { comment: opts.message } : {}),
      config,
      container: rec.id,
      container_config: rec.config,
      created,
      docker_version: "strata",
      history: [
        ...(base.history ?? []),
        {
          created,
          created_by: containerCommand(rec.config).join(" "),
          ...(opts.author ? { author: opts.author } : {}),
          ...(opts.message ? { comment: opts.message } : {}),
        },
      ],
      os: base.os,
      rootfs: { type: "layers", diff_ids: [...base.rootfs.diff_ids, desc.digest] },
    };
    const size = Number(desc.annotations?.[ANNOTATION_LAYER_SIZE] ?? 0);
    const blob = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    return this.images.addImage({
      config: Buffer.from(JSON.stringify(newConfig)),
      layers: [
        ...image.layers.map((l) => ({ diffId: l.diffId, blob: l.blob, size: l.size })),
        { diffId: desc.digest, blob, size },
      ],
      tags,
      parent: image.id,
    });
  }

  /**
   * Run `fn` with the container's root filesystem as a directory: its mount while it runs,
   * else a temporary (writable) mount of its snapshot, gone when `fn` settles.
   */
  async withRootfs<T>(rec: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
    this.runner.checkDriver(rec);
    const rootfs = this.runner.layout.rootfs(rec.id);
    if (await isMountPoint(rootfs)) return fn(rootfs);
    return this.mounts.withTempMount(await this.snapshotter.mounts(containerKey(rec.id)), fn);
  }

  /**
   * Write the container's whole filesystem to `out` as a tar (`docker export`), streamed:
   * the mounted tree walked against an empty one.
   */
  async export(rec: ContainerRecord, out: Writable): Promise<void> {
    this.runner.checkDriver(rec);
    const sink = writableSink(out);
    const rootfs = this.runner.layout.rootfs(rec.id);
    const write = (dir: string) => writeLayerTar(walkChanges(null, dir), sink);
    if (await isMountPoint(rootfs)) await write(rootfs);
    else
      await this.mounts.withTempMount(await this.snapshotter.mounts(containerKey(rec.id)), write);
  }
}

/** A {@link ByteSink} over a Node writable stream, honouring its backpressure. */
function writableSink(out: Writable): ByteSink {
  return {
    async write(chunk) {
      if (!out.write(chunk)) await once(out, "drain");
    },
  };
}
