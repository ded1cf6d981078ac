import { inject, injectable } from "tsyringe";
import { ContainerService } from "../container/container-service.js";
import type { ContainerRecord } from "../container/container-types.js";
import { FilterArgs, invalidFilter, parseFilterTime } from "../filters/filter-args.js";
import { DiskUsageService } from "./disk-usage.js";

/** What `container prune` removed. */
export interface ContainerPruneReport {
  /** Full IDs of the removed containers. */
  deleted: string[];
  /** Bytes their writable layers held (docker's `SpaceReclaimed`). */
  spaceReclaimed: number;
  /** Containers that matched but could not be removed, and why (moby logs these). */
  skipped: { id: string; reason: string }[];
}

/** Filters `container prune` accepts (moby's `containersAcceptedFilters`). */
export const CONTAINER_PRUNE_FILTERS: readonly string[] = ["label", "label!", "until"];

/**
 * `docker container prune`: removes every container that does not run (created, exited,
 * dead), optionally only those created before `until` or matching `label` filters.
 */
@injectable()
export class ContainerPruner {
  constructor(
    @inject(ContainerService) private readonly containers: ContainerService,
    @inject(DiskUsageService) private readonly usage: DiskUsageService,
  ) {}

  /**
   * Remove stopped containers (only those of `opts.driver` when given: a container can
   * only be removed through the driver that holds its snapshots).
   * @throws InvalidArgumentError for an unknown filter or a bad filter value.
   */
  async prune(
    filters: FilterArgs = new FilterArgs(),
    opts: { now?: Date; driver?: string } = {},
  ): Promise<ContainerPruneReport> {
    filters.validate(CONTAINER_PRUNE_FILTERS);
    const untilValues = filters.get("until");
    if (untilValues.length > 1) throw invalidFilter("until", untilValues);
    const until =
      untilValues[0] !== undefined ? parseFilterTime(untilValues[0], opts.now) : undefined;
    const report: ContainerPruneReport = { deleted: [], spaceReclaimed: 0, skipped: [] };
    for (const rec of await this.containers.list()) {
      if (opts.driver !== undefined && rec.driver !== opts.driver) continue;
      if (!this.matches(rec, filters, until)) continue;
      const size = (await this.usage.sizeRw(rec)) ?? 0;
      try {
        await this.containers.remove(rec);
        report.deleted.push(rec.id);
        report.spaceReclaimed += size;
      } catch (err) {
        report.skipped.push({ id: rec.id, reason: (err as Error).message });
      }
    }
    return report;
  }

  private matches(rec: ContainerRecord, filters: FilterArgs, until: Date | undefined): boolean {
    if (rec.state.status === "running") return false;
    if (until && rec.created.getTime() > until.getTime()) return false;
    const labels = rec.config.Labels ?? {};
    if (!filters.matchKVList("label", labels)) return false;
    if (filters.contains("label!") && filters.matchKVList("label!", labels)) return false;
    return true;
  }
}
