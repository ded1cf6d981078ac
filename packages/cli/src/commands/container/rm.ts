import { Command, Option } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata rm [-f] CONTAINER...`: remove containers. */
export class ContainerRemoveCommand extends ContainerCommand {
  static override paths = [["rm"], ["container", "rm"], ["container", "remove"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Remove one or more containers",
    details: `
      Deletes each container's writable layer, files and record, and prints it as given.
      A running container is refused unless \`-f\`, which kills it first.
    `,
    examples: [
      ["Remove a stopped container", "$0 rm c1"],
      ["Kill and remove a running one", "$0 rm -f web"],
    ],
  });

  force = Option.Boolean("-f,--force", false, {
    description: "Force the removal of a running container (uses SIGKILL)",
  });
  volumes = Option.Boolean("-v,--volumes", false, {
    description: "Remove anonymous volumes associated with the container (strata has none)",
  });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    return this.eachContainer(this.containers, (svc, rec) => svc.remove(rec, this.force));
  }
}
