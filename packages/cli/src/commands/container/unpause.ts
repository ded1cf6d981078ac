import { Command, Option } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata unpause CONTAINER...`: thaw paused containers. */
export class ContainerUnpauseCommand extends ContainerCommand {
  static override paths = [["unpause"], ["container", "unpause"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Unpause all processes within one or more containers",
    details: "Thaws every process of each paused container.",
    examples: [["Unpause a container", "$0 unpause web"]],
  });

  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    return this.eachContainer(this.containers, (svc, rec) => svc.unpause(rec));
  }
}
