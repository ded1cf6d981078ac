import { Command, Option } from "clipanion";
import {
  deletedImagesText,
  IMAGE_PRUNE_WARNING,
  reclaimedText,
} from "../../format/prune-output.js";
import { parseFilterFlag } from "../filter-flag.js";
import { confirm } from "../prompt.js";
import { StrataCommand } from "../strata-command.js";

/** `strata image prune [-a] [-f] [--filter …]`: remove unused images. */
export class ImagePruneCommand extends StrataCommand {
  static override paths = [["image", "prune"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Remove unused images",
    details: `
      Removes dangling images (untagged, and no other image's parent); with \`-a\`, every
      image no container uses. Untagged parents left without children go too. Asks first
      unless \`-f\`. Filters: \`until=TIME\` (timestamp or duration such as \`24h\`),
      \`label=KEY[=VALUE]\`, \`label!=KEY[=VALUE]\`.
    `,
    examples: [
      ["Remove dangling images", "$0 image prune -f"],
      ["Remove every unused image older than a day", "$0 image prune -a -f --filter until=24h"],
    ],
  });

  all = Option.Boolean("-a,--all", false, {
    description: "Remove all unused images, not just dangling ones",
  });
  force = Option.Boolean("-f,--force", false, { description: "Do not prompt for confirmation" });
  filter = Option.Array("--filter", [], {
    description: 'Provide filter values (e.g. "until=<timestamp>")',
  });

  async execute(): Promise<number> {
    const filters = await parseFilterFlag(this.filter, "--filter");
    filters.add("dangling", String(!this.all));
    const warning = this.all ? IMAGE_PRUNE_WARNING.all : IMAGE_PRUNE_WARNING.dangling;
    if (!this.force && !(await confirm(this.context.stdin, this.context.stdout, warning))) {
      return 0; // docker: a cancelled prune is not an error
    }
    const pruner = await this.service((core) => core.ImagePruner);
    const report = await pruner.prune({ all: this.all, filters });
    this.print(deletedImagesText(report.deleted) + reclaimedText(report.spaceReclaimed));
    return 0;
  }
}
