import { Command, Option } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata diff CONTAINER`: the changes in a container's filesystem. */
export class ContainerDiffCommand extends ContainerCommand {
  static override paths = [["diff"], ["container", "diff"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Inspect changes to files or directories on a container's filesystem",
    details: `
      One line per path the container added (\`A\`), changed (\`C\`) or deleted (\`D\`)
      compared with its image, sorted by path. On overlay the list comes straight from the
      container's upper directory.
    `,
    examples: [["List a container's changes", "$0 diff c1"]],
  });

  container = Option.String({ name: "CONTAINER" });

  protected async run(): Promise<number> {
    const core = await this.core();
    const { rec, di } = await this.find(this.container);
    const changes = await di.resolve(core.ContainerFilesystem).diff(rec);
    this.print(changes.map((c) => `${c.kind} ${c.path}\n`).join(""));
    return 0;
  }
}
