import { Command, Option } from "clipanion";
import { CreateFlagsCommand } from "./create-flags.js";
import { runAttached, startInBackground } from "./start-helpers.js";

/** `strata run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container and run it. */
export class ContainerRunCommand extends CreateFlagsCommand {
  static override paths = [["run"], ["container", "run"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Create and run a new container from an image",
    details: `
      Creates a container (a writable snapshot of the image on the selected storage
      driver) and runs its command with runc. In the foreground, strata's exit code is
      the container's; 125 means strata itself failed, 126 that the command cannot be
      executed, 127 that it was not found. \`-d\` runs it in the background under a
      detached supervisor and prints the container's ID; \`strata logs\` shows its output.
      \`-t -i\` gives the command an interactive terminal.
    `,
    examples: [
      ["Run a command", "$0 run busybox echo hello"],
      ["An interactive shell, removed when it exits", "$0 run --rm -t -i busybox /bin/sh"],
      ["A named container in the background", "$0 run -d --name web busybox httpd -f"],
      ["Bind mount a host directory read-only", "$0 run -v /srv/data:/data:ro busybox ls /data"],
    ],
  });

  detach = Option.Boolean("-d,--detach", false, {
    description: "Run container in background and print container ID",
  });

  protected async run(): Promise<number> {
    let created: Awaited<ReturnType<CreateFlagsCommand["createContainer"]>>;
    try {
      created = await this.createContainer();
    } catch (err) {
      return this.fail(err);
    }
    const { rec, di } = created;
    try {
      if (this.detach) {
        await startInBackground(this.context, di, rec);
        this.print(`${rec.id}\n`);
        return 0;
      }
      return await runAttached(this.context, di, rec, this.interactive);
    } catch (err) {
      return this.fail(err);
    }
  }
}
