import { Command, Option } from "clipanion";
import { MultiError } from "../../errors.js";
import { ContainerCommand } from "./container-command.js";

/** `strata wait CONTAINER...`: block until containers stop, then print their exit codes. */
export class ContainerWaitCommand extends ContainerCommand {
  static override paths = [["wait"], ["container", "wait"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Block until one or more containers stop, then print their exit codes",
    details: "Prints one exit code per container, in the order given.",
    examples: [["Wait for a container", "$0 wait web"]],
  });

  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    const core = await this.core();
    const errors: Error[] = [];
    for (const ref of this.containers) {
      try {
        const { rec, di } = await this.find(ref);
        this.print(`${await di.resolve(core.ContainerService).wait(rec)}\n`);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (errors.length > 0) throw new MultiError(errors);
    return 0;
  }
}
