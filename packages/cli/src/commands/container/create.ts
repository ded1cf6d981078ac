import { Command } from "clipanion";
import { CreateFlagsCommand } from "./create-flags.js";

/** `strata create [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container without starting it. */
export class ContainerCreateCommand extends CreateFlagsCommand {
  static override paths = [["create"], ["container", "create"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Create a new container",
    details: `
      Makes the container (its writable snapshot and configuration) and prints its ID;
      \`strata start\` runs it. Takes the same flags as \`run\` except \`-d\`.
    `,
    examples: [
      ["Create a container", "$0 create --name c1 busybox sleep 60"],
      ["Then start it", "$0 start c1"],
    ],
  });

  protected async run(): Promise<number> {
    try {
      const { rec } = await this.createContainer();
      this.print(`${rec.id}\n`);
      return 0;
    } catch (err) {
      return this.fail(err);
    }
  }
}
