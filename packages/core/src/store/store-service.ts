import * as fs from "node:fs/promises";
import * as path from "node:path";
import { inject, injectable } from "tsyringe";
import { buildContainerOwner } from "../container/build-container-name.js";
import { ContainerRunner } from "../container/container-runner.js";
import { ContainerService } from "../container/container-service.js";
import { ContainerStore } from "../container/container-store.js";
import type { ContainerRecord } from "../container/container-types.js";
import { ContentStore } from "../content/content-store.js";
import type { Differ } from "../diff/differ.js";
import type { DriverContext } from "../driver/driver-module.js";
import { LayerUnpacker, PRUNE_PENDING_PREFIX } from "../image/layer-unpacker.js";
import { type Db, MetadataStore } from "../metadata/metadata-store.js";
import { cleanStaleTempMounts } from "../mount/mount-manager.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { Tokens } from "../tokens.js";
import { processAlive } from "../util/process.js";

/** What `strata info` reports about the store. */
export interface StoreInfo {
  root: string;
  driver: string;
  /** Driver status lines, as docker's `Storage Driver` block shows them. */
  driverStatus: [string, string][];
  images: number;
  containers: number;
  /** Name of the differ class in use (native or naive). */
  differ: string;
}

/** The settings key under which the store remembers the driver it used last. */
export const LAST_DRIVER_SETTING = "driver";

/**
 * Store-wide facts and bookkeeping: `info`, and which driver the store used last (so that
 * auto-selection keeps using it).
 */
@injectable()
export class StoreService {
  constructor(
    @inject(Tokens.StoreRoot) private readonly root: string,
    @inject(MetadataStore) private readonly meta: MetadataStore,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(Tokens.Differ) private readonly differ: Differ,
    @inject(Tokens.DriverContext) private readonly driver: DriverContext,
    @inject(ContentStore) private readonly content: ContentStore,
    @inject(LayerUnpacker) private readonly unpacker: LayerUnpacker,
    @inject(ContainerRunner) private readonly containers: ContainerRunner,
    @inject(ContainerStore) private readonly containerStore: ContainerStore,
    @inject(ContainerService) private readonly containerService: ContainerService,
  ) {}

  /** Remember the selected driver as the one this store used last. */
  recordDriverUse(): void {
    if (this.meta.getSetting(LAST_DRIVER_SETTING) !== this.driver.name) {
      this.meta.setSetting(LAST_DRIVER_SETTING, this.driver.name);
    }
  }

  /**
   * Repair what killed processes left, at the start of a command: temporary blob files of
   * dead writers, blobs an interrupted rmi had taken out (put back when the rmi never
   * committed), mounts of dead processes, the driver's half-made snapshots and the unpack
   * targets and views of dead processes, layer snapshots an rmi left unpruned (on this
   * driver or while another was in use), and containers of this driver whose monitor died
   * (exit recorded, rootfs unmounted).
   * @returns what was cleaned, for `--debug` output.
   */
  async recover(): Promise<{
    ingest: number;
    restored: string[];
    mounts: string[];
    snapshots: number;
    pruned: string[];
    containers: string[];
  }> {
    const ingest = await this.content.cleanIngest();
    // The write lock only when there is trash: most starts find none.
    const { restored } = (await this.content.leftovers()).some((f) => f.path.includes("/trash/"))
      ? this.meta.write((db) => this.content.recoverTrashSync((d) => blobReferenced(db, d)))
      : { restored: [] };
    const mounts = await cleanStaleTempMounts();
    let snapshots = (await this.unpacker.removeDeadTemps()).length;
    snapshots += (await this.snapshotter.cleanup?.()) ?? 0;
    let pruned: string[] = [];
    if (this.meta.getSetting(`${PRUNE_PENDING_PREFIX}${this.driver.name}`) !== undefined) {
      pruned = await this.unpacker.prune();
    }
    const containers = await this.containers.recoverAll();
    for (const rec of await this.deadBuildContainers()) {
      await this.containerService.destroy(rec);
      containers.push(rec.id);
    }
    return { ingest, restored, mounts, snapshots, pruned, containers };
  }

  /**
   * Containers of this driver that a build's RUN step made, whose build process is gone
   * and that no longer run (the builder would have removed them).
   */
  async deadBuildContainers(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const rec of this.containerStore.list()) {
      const owner = buildContainerOwner(rec.name);
      if (owner === undefined || processAlive(owner) || rec.driver !== this.driver.name) continue;
      if ((await this.containers.reconcile(rec)).state.status === "running") continue;
      out.push(rec);
    }
    return out;
  }

  /** Facts for `strata info`. */
  async info(): Promise<StoreInfo> {
    let snapshots = 0;
    await this.snapshotter.walk(() => {
      snapshots++;
    });
    const count = (table: string) =>
      (this.meta.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      root: this.root,
      driver: this.driver.name,
      driverStatus: [
        ["Backing Filesystem", await backingFilesystem(this.root)],
        ["Snapshots", String(snapshots)],
        ...((await this.snapshotter.status?.()) ?? []),
        ["Differ", this.differ.constructor.name],
      ],
      images: count("images"),
      containers: count("containers"),
      differ: this.differ.constructor.name,
    };
  }
}

/** The filesystem type of the mount that holds `dir` (from /proc/self/mountinfo). */
export async function backingFilesystem(dir: string): Promise<string> {
  const info = await fs.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const abs = path.resolve(dir);
  let best = "";
  let type = "unknown";
  for (const line of info.split("\n")) {
    const [pre, post] = line.split(" - ");
    const mp = pre?.split(" ")[4];
    const fstype = post?.split(" ")[0];
    if (!mp || !fstype) continue;
    if (
      (abs === mp || abs.startsWith(mp.endsWith("/") ? mp : `${mp}/`)) &&
      mp.length >= best.length
    ) {
      best = mp;
      type = fstype;
    }
  }
  return type;
}

/** Whether any image or layer record names blob `digest` (an image's own blob or a layer's). */
export function blobReferenced(db: Db, digest: string): boolean {
  return !!(
    db.prepare("SELECT 1 FROM image_blobs WHERE digest = ? LIMIT 1").get(digest) ??
    db.prepare("SELECT 1 FROM layers WHERE blob_digest = ? LIMIT 1").get(digest)
  );
}
