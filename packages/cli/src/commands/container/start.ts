import { Command, Option, UsageError } from "clipanion";
import { MultiError } from "../../errors.js";
import { ContainerCommand } from "./container-command.js";
import { runAttached, startInBackground } from "./start-helpers.js";

/** `strata start [-a] [-i] CONTAINER...`: start stopped containers. */
export class ContainerStartCommand extends ContainerCommand {
  static override paths = [["start"], ["container", "start"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Start one or more stopped containers",
    details: `
      Starts each container in the background and prints its name as given. With \`-a\`
      (one container), strata stays attached to its output and exits with its exit code;
      \`-i\` also gives it strata's standard input.
    `,
    examples: [
      ["Start a container", "$0 start c1"],
      ["Start one and wait for it, showing its output", "$0 start -a c1"],
    ],
  });

  attach = Option.Boolean("-a,--attach", false, {
    description: "Attach STDOUT/STDERR and forward signals",
  });
  interactive = Option.Boolean("-i,--interactive", false, {
    description: "Attach container's STDIN",
  });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    if ((this.attach || this.interactive) && this.containers.length > 1) {
      throw new UsageError("you cannot start and attach multiple containers at once");
    }
    if (this.attach || this.interactive) {
      try {
        const { rec, di } = await this.find(this.containers[0]!);
        const core = await this.core();
        const service = di.resolve(core.ContainerService);
        if ((await service.get(rec.id)).state.status === "running") {
          throw new core.FailedPreconditionError(
            `container ${rec.name} is already running; strata cannot attach to it`,
          );
        }
        return await runAttached(this.context, di, rec, this.interactive);
      } catch (err) {
        return this.fail(err, 1);
      }
    }
    const errors: Error[] = [];
    for (const ref of this.containers) {
      try {
        const { rec, di } = await this.find(ref);
        await startInBackground(this.context, di, rec);
        this.print(`${ref}\n`);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (errors.length > 0) throw new MultiError(errors);
    return 0;
  }
}
