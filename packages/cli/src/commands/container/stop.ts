import { Command, Option, UsageError } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata stop [-t N] [-s SIGNAL] CONTAINER...`: stop running containers. */
export class ContainerStopCommand extends ContainerCommand {
  static override paths = [["stop"], ["container", "stop"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Stop one or more running containers",
    details: `
      Sends the container's stop signal (SIGTERM unless its image sets STOPSIGNAL), then
      SIGKILL when it still runs after the timeout (10 seconds; \`-t -1\` waits for ever).
      Prints each container as given once it has stopped.
    `,
    examples: [
      ["Stop a container", "$0 stop web"],
      ["Give it one second", "$0 stop -t 1 web"],
    ],
  });

  time = Option.String("-t,--time", {
    description: "Seconds to wait before killing the container",
  });
  signal = Option.String("-s,--signal", { description: "Signal to send to the container" });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    let timeout = 10;
    if (this.time !== undefined) {
      if (!/^-?\d+$/.test(this.time)) {
        throw new UsageError(`invalid argument "${this.time}" for "-t, --time" flag`);
      }
      timeout = Number(this.time);
    }
    return this.eachContainer(this.containers, (svc, rec) => svc.stop(rec, timeout, this.signal));
  }
}
