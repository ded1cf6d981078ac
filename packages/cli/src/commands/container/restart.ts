import { Command, Option, UsageError } from "clipanion";
import { ContainerCommand } from "./container-command.js";
import { startInBackground } from "./start-helpers.js";

/** `strata restart [-t N] CONTAINER...`: stop (if running) and start containers. */
export class ContainerRestartCommand extends ContainerCommand {
  static override paths = [["restart"], ["container", "restart"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Restart one or more containers",
    details: "Stops each container as `stop` does (`-t` seconds before SIGKILL), then starts it.",
    examples: [["Restart a container", "$0 restart web"]],
  });

  time = Option.String("-t,--time", {
    description: "Seconds to wait before killing the container",
  });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    let timeout = 10;
    if (this.time !== undefined) {
      if (!/^-?\d+$/.test(this.time)) {
        throw new UsageError(`invalid argument "${this.time}" for "-t, --time" flag`);
      }
      timeout = Number(this.time);
    }
    return this.eachContainer(this.containers, async (svc, rec, di) => {
      await svc.stop(rec, timeout);
      await startInBackground(this.context, di, svc.store.byId(rec.id) ?? rec);
    });
  }
}
