import { Command, Option } from "clipanion";
import { inspectImages } from "../inspect-images.js";
import { StrataCommand } from "../strata-command.js";

/** `strata image inspect IMAGE…`: images' details as docker's JSON. */
export class ImageInspectCommand extends StrataCommand {
  static override paths = [["image", "inspect"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Display detailed information on one or more images",
    details: `
      Prints a JSON array with one object per IMAGE (name, full or short ID, or digest
      reference), in docker's \`image inspect\` shape. Names that do not resolve are
      reported after the array and make the command fail.
    `,
    examples: [
      ["Inspect an image", "$0 image inspect busybox"],
      ["Inspect two images by ID", "$0 image inspect 0f4d7ea3f0d2 3c5ae1e8"],
      [
        "Print an image's layers, one per line",
        "$0 image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' busybox",
      ],
    ],
  });

  format = Option.String("-f,--format", {
    description: "Format output using a custom template ('json', or a Go template)",
  });
  names = Option.Rest({ required: 1, name: "IMAGE" });

  async execute(): Promise<number> {
    const images = await this.service((core) => core.ImageStore);
    await inspectImages(this.context.stdout, images, this.names, (err) => err, this.format);
    return 0;
  }
}
