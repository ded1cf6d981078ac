import { Command, Option } from "clipanion";
import { imageIds, imageRows, imageTable } from "../../format/image-rows.js";
import { formatTable } from "../../format/table-writer.js";
import { StrataCommand } from "../strata-command.js";

/** `strata images` / `strata image ls`: list images as docker does. */
export class ImageListCommand extends StrataCommand {
  static override paths = [["images"], ["image", "ls"], ["image", "list"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "List images",
    details: `
      Lists the images in the store, newest first, one row per tag. Untagged images show
      as \`<none>\`; intermediate images (untagged parents of other images) are hidden
      unless \`-a\` is given. \`REPOSITORY[:TAG]\` keeps only matching references (shell
      patterns such as \`busy*\` work).
    `,
    examples: [
      ["List images", "$0 images"],
      ["List only image IDs", "$0 images -q"],
      ["List the tags of one repository, with digests", "$0 images --digests busybox"],
    ],
  });

  all = Option.Boolean("-a,--all", false, {
    description: "Show all images (default hides intermediate images)",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Only show image IDs" });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "Don't truncate output" });
  digests = Option.Boolean("--digests", false, { description: "Show digests" });
  reference = Option.String({ required: false, name: "REPOSITORY[:TAG]" });

  async execute(): Promise<number> {
    const images = await this.service((core) => core.ImageStore);
    const opts = {
      all: this.all,
      digests: this.digests,
      noTrunc: this.noTrunc,
      ...(this.reference !== undefined ? { reference: this.reference } : {}),
    };
    const rows = imageRows(await images.list(), opts);
    if (this.quiet) {
      const ids = imageIds(rows, this.noTrunc);
      this.print(ids.map((id) => `${id}\n`).join(""));
    } else {
      this.print(formatTable(imageTable(rows, opts)));
    }
    return 0;
  }
}
