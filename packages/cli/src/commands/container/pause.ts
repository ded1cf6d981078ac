import { Command, Option } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata pause CONTAINER...`: freeze running containers. */
export class ContainerPauseCommand extends ContainerCommand {
  static override paths = [["pause"], ["container", "pause"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Pause all processes within one or more containers",
    details: "Freezes every process of each container (runc's cgroup freezer).",
    examples: [["Pause a container", "$0 pause web"]],
  });

  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    return this.eachContainer(this.containers, (svc, rec) => svc.pause(rec));
  }
}
