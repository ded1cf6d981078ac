import { inject, injectable } from "tsyringe";
import { ContainerStore } from "../container/container-store.js";
import type { DriverContext } from "../driver/driver-module.js";
import { isErrorCode } from "../errors.js";
import { LayerUnpacker } from "../image/layer-unpacker.js";
import { MetadataStore } from "../metadata/metadata-store.js";
import type { SnapshotInfo, Snapshotter } from "../snapshots/snapshotter.js";
import { tempSnapshotOwner } from "../snapshots/temp-snapshot-key.js";
import { Tokens } from "../tokens.js";
import { processAlive } from "../util/process.js";
import type { Found } from "./check-finding.js";

/**
 * The snapshot part of `system check`: the selected driver's snapshots against the images
 * (unused layer snapshots), the containers (snapshots of none, containers missing theirs),
 * the metadata's per-driver records, the temporary snapshots of dead processes, and the
 * driver's own directories (`Snapshotter.verify`).
 */
@injectable()
export class SnapshotChecker {
  constructor(
    @inject(MetadataStore) private readonly meta: MetadataStore,
    @inject(LayerUnpacker) private readonly unpacker: LayerUnpacker,
    @inject(ContainerStore) private readonly containers: ContainerStore,
    @inject(Tokens.Snapshotter) private readonly snapshotter: Snapshotter,
    @inject(Tokens.DriverContext) private readonly driver: DriverContext,
  ) {}

  /**
   * Add what is wrong with the driver's snapshots to `found`; the containers in
   * `deadBuilds` are being removed whole and not reported again.
   * @returns how many snapshots the driver has.
   */
  async check(found: Found[], deadBuilds: ReadonlySet<string>): Promise<number> {
    const all: SnapshotInfo[] = [];
    await this.snapshotter.walk((info) => {
      all.push(info);
    });
    const byName = new Map(all.map((s) => [s.name, s]));
    const { wanted, recorded } = this.meta.read((db) => ({
      wanted: new Set(
        (
          db.prepare("SELECT DISTINCT chain_id FROM image_layers").all() as { chain_id: string }[]
        ).map((r) => r.chain_id),
      ),
      recorded: (
        db.prepare("SELECT chain_id FROM snapshots WHERE driver = ?").all(this.driver.name) as {
          chain_id: string;
        }[]
      ).map((r) => r.chain_id),
    }));
    const containerIds = new Set(
      this.containers
        .list()
        .filter((c) => c.driver === this.driver.name)
        .map((c) => c.id),
    );
    const remove = (key: string) => async () => {
      await this.removeTree(key, byName);
      return `removed snapshot "${key}"`;
    };
    for (const s of all) {
      const owner = tempSnapshotOwner(s.name);
      const container = /^container-([0-9a-f]{64})(?:-init(?:-active)?)?$/.exec(s.name)?.[1];
      if (owner !== undefined) {
        if (processAlive(owner)) continue; // at work now
        found.push({
          severity: "problem",
          subject: `snapshot "${s.name}"`,
          message: `left half-made by process ${owner}, which is gone`,
          order: 1,
          fix: remove(s.name),
        });
      } else if (container !== undefined) {
        if (containerIds.has(container)) continue;
        found.push({
          severity: "problem",
          subject: `snapshot "${s.name}"`,
          message: "belongs to no container",
          order: 1,
          fix: remove(s.name),
        });
      } else if (s.kind === "committed" && s.name.startsWith("sha256:") && !wanted.has(s.name)) {
        found.push({
          severity: "note",
          subject: `snapshot "${s.name}"`,
          message: "no image has this layer (a repair prunes it)",
          order: 7,
          fix: async () => {
            const pruned = await this.unpacker.prune();
            return pruned.includes(s.name) ? `pruned layer snapshot "${s.name}"` : undefined;
          },
        });
      }
    }
    for (const chain of recorded) {
      if (byName.get(chain)?.kind === "committed") continue;
      // Bookkeeping only (which drivers to tell when the layer goes): a stale row is harmless.
      found.push({
        severity: "note",
        subject: `snapshot "${chain}"`,
        message: `recorded for driver ${this.driver.name}, but the driver does not have it (unpacked again on use)`,
        order: 6,
        fix: async () => {
          this.meta.write((db) =>
            db
              .prepare("DELETE FROM snapshots WHERE driver = ? AND chain_id = ?")
              .run(this.driver.name, chain),
          );
          return `deleted the record of snapshot "${chain}"`;
        },
      });
    }
    for (const id of containerIds) {
      if (deadBuilds.has(id)) continue; // removed whole by its repair
      for (const [key, kind] of [
        [`container-${id}-init`, "committed"],
        [`container-${id}`, "active"],
      ] as const) {
        if (byName.get(key)?.kind === kind) continue;
        found.push({
          severity: "problem",
          subject: `container ${id.slice(0, 12)}`,
          message: `its ${kind} snapshot "${key}" is missing (remove the container with rm -f)`,
          order: 8,
        });
      }
    }
    for (const message of (await this.snapshotter.verify?.()) ?? []) {
      found.push({
        severity: "problem",
        subject: `driver ${this.driver.name}`,
        message,
        order: 7,
        fix: async () => {
          const n = (await this.snapshotter.cleanup?.()) ?? 0;
          return n > 0 ? `driver ${this.driver.name}: removed ${n} leftover(s)` : undefined;
        },
      });
    }
    return all.length;
  }

  /** Remove a snapshot and whatever snapshots stand on it (children first). */
  private async removeTree(key: string, byName: Map<string, SnapshotInfo>): Promise<void> {
    for (const child of [...byName.values()].filter((s) => s.parent === key)) {
      await this.removeTree(child.name, byName);
    }
    try {
      await this.snapshotter.remove(key);
    } catch (err) {
      if (!isErrorCode(err, "NOT_FOUND")) throw err;
    }
    byName.delete(key);
  }
}
