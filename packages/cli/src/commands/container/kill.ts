import { Command, Option } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata kill [-s SIGNAL] CONTAINER...`: signal running containers. */
export class ContainerKillCommand extends ContainerCommand {
  static override paths = [["kill"], ["container", "kill"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Kill one or more running containers",
    details: `
      Sends SIGKILL, or the signal \`-s\` names (\`TERM\`, \`SIGHUP\`, \`9\`), to each
      container's main process and prints the container as given.
    `,
    examples: [
      ["Kill a container", "$0 kill web"],
      ["Send it SIGHUP", "$0 kill -s HUP web"],
    ],
  });

  signal = Option.String("-s,--signal", "KILL", { description: "Signal to send to the container" });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    return this.eachContainer(this.containers, (svc, rec, _di, ref) =>
      svc.kill(rec, ref, this.signal),
    );
  }
}
