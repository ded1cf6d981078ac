import { Command, Option } from "clipanion";
import {
  deletedContainersText,
  deletedImagesText,
  reclaimedText,
  SYSTEM_PRUNE_CONFIRMATION,
} from "../../format/prune-output.js";
import { ContainerPruneCommand } from "../container/prune.js";
import { parseFilterFlag } from "../filter-flag.js";
import { confirm } from "../prompt.js";

/** `strata system prune [-a] [-f] [--filter …]`: remove stopped containers and unused images. */
export class SystemPruneCommand extends ContainerPruneCommand {
  static override paths = [["system", "prune"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Remove unused data",
    details: `
      Removes all stopped containers, then dangling images (with \`-a\`, every image no
      container uses). strata has no networks, volumes or build cache to prune. Asks first
      unless \`-f\`. Filters: \`until=TIME\`, \`label=KEY[=VALUE]\`, \`label!=KEY[=VALUE]\`.
    `,
    examples: [
      ["Remove stopped containers and dangling images", "$0 system prune -f"],
      ["Also remove every image no container uses", "$0 system prune -a -f"],
    ],
  });

  all = Option.Boolean("-a,--all", false, {
    description: "Remove all unused images not just dangling ones",
  });
  volumes = Option.Boolean("--volumes", false, {
    description: "Prune anonymous volumes (strata has none)",
  });

  protected override async run(): Promise<number> {
    const filters = await parseFilterFlag(this.filter, "--filter");
    const core = await this.core();
    if (!this.force) {
      const message = core.GoTemplate.parse(SYSTEM_PRUNE_CONFIRMATION).execute({
        warnings: [
          "all stopped containers",
          this.all
            ? "all images without at least one container associated to them"
            : "all dangling images",
        ],
        filters: ["label", "label!", "until"].flatMap((k) =>
          filters.get(k).map((v) => `${k}=${v}`),
        ),
      });
      if (!(await confirm(this.context.stdin, this.context.stdout, message))) return 0;
    }
    const containers = await this.pruneContainers(filters.clone());
    const imageFilters = filters.clone().add("dangling", String(!this.all));
    const pruner = (await this.context.container()).resolve(core.ImagePruner);
    const images = await pruner.prune({ all: this.all, filters: imageFilters });
    this.print(
      deletedContainersText(containers.deleted) +
        deletedImagesText(images.deleted) +
        reclaimedText(containers.spaceReclaimed + images.spaceReclaimed),
    );
    return 0;
  }
}
