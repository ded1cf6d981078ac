import type { ContainerPruneReport, FilterArgs } from "@strata/core";
import { Command, Option } from "clipanion";
import {
  CONTAINER_PRUNE_WARNING,
  deletedContainersText,
  reclaimedText,
} from "../../format/prune-output.js";
import { parseFilterFlag } from "../filter-flag.js";
import { confirm } from "../prompt.js";
import { ContainerCommand } from "./container-command.js";

/** `strata container prune [-f] [--filter …]`: remove all stopped containers. */
export class ContainerPruneCommand extends ContainerCommand {
  static override paths = [["container", "prune"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Remove all stopped containers",
    details: `
      Removes every container that does not run (created or exited), on whichever storage
      driver holds it. Asks first unless \`-f\`. Filters: \`until=TIME\`,
      \`label=KEY[=VALUE]\`, \`label!=KEY[=VALUE]\`.
    `,
    examples: [
      ["Remove stopped containers", "$0 container prune -f"],
      ["Remove those created more than an hour ago", "$0 container prune -f --filter until=1h"],
    ],
  });

  force = Option.Boolean("-f,--force", false, { description: "Do not prompt for confirmation" });
  filter = Option.Array("--filter", [], {
    description: 'Provide filter values (e.g. "until=<timestamp>")',
  });

  protected async run(): Promise<number> {
    const filters = await parseFilterFlag(this.filter, "--filter");
    if (!this.force) {
      const ok = await confirm(this.context.stdin, this.context.stdout, CONTAINER_PRUNE_WARNING);
      if (!ok) return 0;
    }
    const report = await this.pruneContainers(filters);
    this.print(deletedContainersText(report.deleted) + reclaimedText(report.spaceReclaimed));
    return 0;
  }

  /**
   * Prune on every driver that holds stopped containers (a container's layer can only be
   * removed through its own driver); warn about those that could not be removed.
   */
  async pruneContainers(filters: FilterArgs): Promise<ContainerPruneReport> {
    const [core, di] = await Promise.all([this.core(), this.context.container()]);
    filters.validate(core.CONTAINER_PRUNE_FILTERS);
    const drivers = new Set(
      di
        .resolve(core.ContainerStore)
        .list()
        .map((c) => c.driver),
    );
    const total: ContainerPruneReport = { deleted: [], spaceReclaimed: 0, skipped: [] };
    for (const driver of [...drivers].sort()) {
      const target = await this.diFor(driver, di);
      const r = await target.resolve(core.ContainerPruner).prune(filters, { driver });
      total.deleted.push(...r.deleted);
      total.spaceReclaimed += r.spaceReclaimed;
      total.skipped.push(...r.skipped);
    }
    for (const s of total.skipped) {
      this.context.stderr.write(
        `WARNING: container ${s.id.slice(0, 12)} not removed: ${s.reason}\n`,
      );
    }
    return total;
  }
}
