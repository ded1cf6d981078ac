import { Command, Option } from "clipanion";
import { StrataCommand } from "../strata-command.js";

/** `strata tag SOURCE TARGET`: add a tag to an image. */
export class ImageTagCommand extends StrataCommand {
  static override paths = [["tag"], ["image", "tag"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    details: `
      SOURCE_IMAGE is a name, a full or short image ID, or a digest reference.
      TARGET_IMAGE is \`[HOST[:PORT]/]NAME[:TAG]\`; the tag defaults to \`latest\`.
      A tag that already points at another image is moved.
    `,
    examples: [
      ["Tag an image by name", "$0 tag busybox:latest myregistry:5000/tools/busybox:1.36"],
      ["Tag an image by short ID", "$0 tag 0f4d7ea3f0d2 mybox"],
    ],
  });

  source = Option.String({ name: "SOURCE_IMAGE[:TAG]" });
  target = Option.String({ name: "TARGET_IMAGE[:TAG]" });

  async execute(): Promise<number> {
    const images = await this.service((core) => core.ImageStore);
    await images.tag(this.source, this.target);
    return 0;
  }
}
