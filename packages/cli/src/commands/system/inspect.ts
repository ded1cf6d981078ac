import { Command, Option, UsageError } from "clipanion";
import { inspectImages } from "../inspect-images.js";
import { StrataCommand } from "../strata-command.js";

/** Object types `inspect --type` accepts. */
const TYPES = ["container", "image"] as const;

/** `strata inspect NAME|ID…`: low-level information on strata objects. */
export class InspectCommand extends StrataCommand {
  static override paths = [["inspect"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Return low-level information on strata objects",
    details: `
      Prints a JSON array with one object per NAME|ID: a container when one has that
      name or ID, else an image (\`--type\` picks one kind). Names that do not resolve
      are reported after the array as \`No such object\` and make the command fail.
    `,
    examples: [
      ["Inspect an image", "$0 inspect busybox"],
      ["Inspect only images", "$0 inspect --type image busybox:latest"],
      ["Print a container's state", "$0 inspect -f '{{.State.Status}}' web"],
      ["Print an image's environment", "$0 inspect --format '{{json .Config.Env}}' busybox"],
    ],
  });

  type = Option.String("--type", {
    description: "Return JSON for specified type (container, image)",
  });
  format = Option.String("-f,--format", {
    description: "Format output using a custom template ('json', or a Go template)",
  });
  names = Option.Rest({ required: 1, name: "NAME|ID" });

  async execute(): Promise<number> {
    if (this.type !== undefined && !(TYPES as readonly string[]).includes(this.type)) {
      throw new UsageError(`"${this.type}" is not a valid value for --type`);
    }
    const [core, images, containers] = await Promise.all([
      import("@strata/core"),
      this.service((c) => c.ImageStore),
      this.service((c) => c.ContainerService),
    ]);
    // As docker: a container of that name or ID first, then an image.
    const lookup = {
      inspect: async (name: string): Promise<unknown> => {
        if (this.type === "image") return images.inspect(name);
        if (this.type === "container") return containers.inspect(name);
        try {
          return await containers.inspect(name);
        } catch (err) {
          if (!(err instanceof core.NotFoundError)) throw err;
          return images.inspect(name);
        }
      },
    };
    // As docker: with --type the type's own "No such image" wording, else "No such object".
    await inspectImages(
      this.context.stdout,
      lookup,
      this.names,
      (err, name) =>
        this.type === undefined && err instanceof core.NotFoundError
          ? new core.NotFoundError(`No such object: ${name}`, { cause: err })
          : err,
      this.format,
    );
    return 0;
  }
}
