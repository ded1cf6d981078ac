import { inject, injectable } from "tsyringe";
import type { Differ } from "../diff/differ.js";
import type { DriverContext } from "../driver/driver-module.js";
import { AlreadyExistsError, InvalidArgumentError, isErrorCode } from "../errors.js";
import { type Db, MetadataStore } from "../metadata/metadata-store.js";
import { type ProgressListener, shortDigest } from "../registry/progress.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import { tempSnapshotKey, tempSnapshotOwner } from "../snapshots/temp-snapshot-key.js";
import { Tokens } from "../tokens.js";
import { crashPoint } from "../util/crash-point.js";
import { processAlive } from "../util/process.js";
import type { LayerRecord } from "./image-types.js";

/**
 * Settings key prefix marking a driver whose layer snapshots may have lost their last image
 * (`prune-pending:<driver>`): an rmi sets it in the transaction that forgets the image, and
 * a finished prune (that rmi's own, or the next start's) clears it.
 */
export const PRUNE_PENDING_PREFIX = "prune-pending:";

/**
 * Unpacks an image's layers into the selected driver's snapshots, keyed by chain ID, once
 * per driver. Each layer is applied into a fresh active snapshot with a private key and then
 * committed under its chain ID; when another process committed the same chain first, this
 * one drops its copy and uses theirs (containerd's unpacker does the same).
 */
@injectable()
export class LayerUnpacker {
  constructor(
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(Tokens.Differ) private readonly differ: Differ,
    @inject(MetadataStore) private readonly meta: MetadataStore,
    @inject(Tokens.DriverContext) private readonly driver: DriverContext,
  ) {}

  /** Name of the driver layers go into. */
  get driverName(): string {
    return this.driver.name;
  }

  /**
   * Make sure every layer of the stack exists as a committed snapshot.
   * @param onProgress told, for each layer that has to be unpacked (id: the blob's short
   *   digest, as a pull shows it), `Extracting` with the blob's bytes read of its size,
   *   then `Extract complete`; layers already unpacked are not reported.
   * @returns the chain ID of the top layer (the parent for a container), or undefined
   *   for an image with no layers.
   * @throws InvalidArgumentError when a layer's content does not match its diff ID.
   */
  async unpack(
    layers: readonly LayerRecord[],
    signal?: AbortSignal,
    onProgress?: ProgressListener,
  ): Promise<string | undefined> {
    let parent: string | undefined;
    for (const layer of layers) {
      signal?.throwIfAborted();
      if (!(await this.exists(layer.chainId))) {
        const id = shortDigest(layer.blob.digest);
        const total = layer.blob.size;
        const progress = onProgress
          ? (current: number) => onProgress({ id, status: "Extracting", current, total })
          : undefined;
        progress?.(0);
        await this.applyLayer(layer, parent, signal, progress);
        onProgress?.({ id, status: "Extract complete" });
      }
      this.meta.write((db) =>
        db
          .prepare("INSERT OR IGNORE INTO snapshots(driver, chain_id, created) VALUES (?, ?, ?)")
          .run(this.driver.name, layer.chainId, new Date().toISOString()),
      );
      parent = layer.chainId;
    }
    return parent;
  }

  private async exists(name: string): Promise<boolean> {
    try {
      const info = await this.snapshotter.stat(name);
      return info.kind === "committed";
    } catch (err) {
      if (isErrorCode(err, "NOT_FOUND")) return false;
      throw err;
    }
  }

  private async applyLayer(
    layer: LayerRecord,
    parent: string | undefined,
    signal?: AbortSignal,
    onProgress?: (bytes: number) => void,
  ): Promise<void> {
    const key = tempSnapshotKey("extract", layer.chainId);
    const mounts = await this.snapshotter.prepare(key, parent, {
      labels: { "io.strata.unpack": layer.chainId },
    });
    try {
      const applied = await this.differ.apply(layer.blob, mounts, {
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
      crashPoint("mid-unpack");
      if (applied.digest !== layer.diffId) {
        throw new InvalidArgumentError(
          `layer ${layer.diffId}: content does not match its diff ID (unpacked ${applied.digest})`,
        );
      }
      await this.snapshotter.commit(layer.chainId, key);
    } catch (err) {
      await this.snapshotter.remove(key).catch(() => {});
      if (err instanceof AlreadyExistsError) return; // another process unpacked it first
      throw err;
    }
  }

  /**
   * Remove this driver's committed layer snapshots that no image needs any more, children
   * before parents. Snapshots still used (as parents of others) are left alone.
   * @returns the chain IDs removed.
   */
  async prune(): Promise<string[]> {
    const pendingKey = `${PRUNE_PENDING_PREFIX}${this.driver.name}`;
    const pending = this.meta.getSetting(pendingKey);
    const wanted = new Set(
      (
        this.meta.db.prepare("SELECT DISTINCT chain_id FROM image_layers").all() as {
          chain_id: string;
        }[]
      ).map((r) => r.chain_id),
    );
    const candidates: { name: string; parent?: string }[] = [];
    await this.snapshotter.walk(
      (info) => {
        if (info.name.startsWith("sha256:") && !wanted.has(info.name)) {
          candidates.push({ name: info.name, ...(info.parent ? { parent: info.parent } : {}) });
        }
      },
      { kinds: ["committed"] },
    );
    const removed: string[] = [];
    let progress = true;
    while (progress) {
      progress = false;
      for (const c of candidates) {
        if (removed.includes(c.name)) continue;
        try {
          await this.snapshotter.remove(c.name);
          removed.push(c.name);
          crashPoint("mid-prune");
          progress = true;
        } catch (err) {
          if (isErrorCode(err, "NOT_FOUND")) removed.push(c.name);
          else if (!isErrorCode(err, "FAILED_PRECONDITION")) throw err;
        }
      }
    }
    if (removed.length > 0) {
      this.meta.write((db) => {
        const del = db.prepare("DELETE FROM snapshots WHERE driver = ? AND chain_id = ?");
        for (const name of removed) del.run(this.driver.name, name);
      });
    }
    // Done: forget the mark an rmi left for this driver, unless another set it meanwhile.
    if (pending !== undefined) {
      this.meta.write((db) =>
        db.prepare("DELETE FROM settings WHERE key = ? AND value = ?").run(pendingKey, pending),
      );
    }
    return removed;
  }

  /**
   * Mark this driver's layer snapshots as possibly unneeded (inside `db`'s transaction, by
   * the rmi that forgets an image), so that when the process dies before pruning them the
   * next start does. Each mark is new, so a prune clears only the mark it saw.
   */
  static markPrunePending(db: Db, driver: string): void {
    db.prepare(
      "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(`${PRUNE_PENDING_PREFIX}${driver}`, `${process.pid}-${Date.now()}-${Math.random()}`);
  }

  /**
   * Remove the temporary snapshots (unpack targets, base views) of processes that died.
   * @returns the keys removed.
   */
  async removeDeadTemps(): Promise<string[]> {
    const dead: string[] = [];
    await this.snapshotter.walk(
      (info) => {
        const pid = tempSnapshotOwner(info.name);
        if (pid !== undefined && !processAlive(pid)) dead.push(info.name);
      },
      { kinds: ["active", "view"] },
    );
    const removed: string[] = [];
    for (const key of dead) {
      try {
        await this.snapshotter.remove(key);
        removed.push(key);
      } catch (err) {
        if (!isErrorCode(err, "NOT_FOUND")) throw err;
      }
    }
    return removed;
  }
}
