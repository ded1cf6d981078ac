import type { RemovedItem } from "@strata/core";
import { Command, Option } from "clipanion";
import { MultiError } from "../../errors.js";
import { StrataCommand } from "../strata-command.js";

/** `strata rmi IMAGE…` / `strata image rm`: untag and delete images. */
export class ImageRemoveCommand extends StrataCommand {
  static override paths = [["rmi"], ["image", "rm"], ["image", "remove"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Remove one or more images",
    details: `
      Removing a name untags it; the image itself, and the blobs no other image uses,
      are deleted when its last tag goes. An ID that several repositories refer to is
      refused unless \`-f\` is given. Every IMAGE is tried, even after a failure; with
      \`-f\`, images that do not exist are reported but do not fail the command.
    `,
    examples: [
      ["Untag (and, if it was the last tag, delete) an image", "$0 rmi busybox"],
      ["Delete an image and all its tags by ID", "$0 rmi -f 0f4d7ea3f0d2"],
    ],
  });

  force = Option.Boolean("-f,--force", false, { description: "Force removal of the image" });
  noPrune = Option.Boolean("--no-prune", false, { description: "Do not delete untagged parents" });
  images = Option.Rest({ required: 1, name: "IMAGE" });

  async execute(): Promise<number> {
    const [core, store] = await Promise.all([
      import("@strata/core"),
      this.service((c) => c.ImageStore),
    ]);
    const errors: Error[] = [];
    let fatal = false;
    for (const name of this.images) {
      let removed: RemovedItem[];
      try {
        removed = await store.remove(name, { force: this.force, noPrune: this.noPrune });
      } catch (err) {
        if (!(err instanceof core.NotFoundError)) fatal = true;
        errors.push(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      for (const item of removed) {
        this.print(
          "untagged" in item ? `Untagged: ${item.untagged}\n` : `Deleted: ${item.deleted}\n`,
        );
      }
    }
    if (errors.length === 0) return 0;
    // As docker: with -f, images that do not exist are reported without failing.
    if (!this.force || fatal) throw new MultiError(errors);
    for (const e of errors) this.context.stderr.write(`Error: ${e.message}\n`);
    return 0;
  }
}
