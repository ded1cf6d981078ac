import * as fs from "node:fs";
import { Command, Option, UsageError } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata exec [OPTIONS] CONTAINER COMMAND [ARG...]`: run a command in a running container. */
export class ContainerExecCommand extends ContainerCommand {
  static override paths = [["exec"], ["container", "exec"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Execute a command in a running container",
    details: `
      Runs the command in the container's namespaces (runc exec) with the container's
      environment, user and working directory unless \`-e\`, \`-u\`, \`-w\` say otherwise,
      and exits with its exit code (126: not executable, 127: not found).
    `,
    examples: [
      ["Run a command in a container", "$0 exec web ls /"],
      ["Open a shell in it", "$0 exec -t -i web /bin/sh"],
    ],
  });

  detach = Option.Boolean("-d,--detach", false, {
    description: "Detached mode: run command in the background",
  });
  interactive = Option.Boolean("-i,--interactive", false, {
    description: "Keep STDIN open even if not attached",
  });
  tty = Option.Boolean("-t,--tty", false, { description: "Allocate a pseudo-TTY" });
  env = Option.Array("-e,--env", [], { description: "Set environment variables" });
  envFile = Option.Array("--env-file", [], {
    description: "Read in a file of environment variables",
  });
  user = Option.String("-u,--user", {
    description: "Username or UID (format: <name|uid>[:<group|gid>])",
  });
  workdir = Option.String("-w,--workdir", {
    description: "Working directory inside the container",
  });
  container = Option.String({ name: "CONTAINER" });
  args = Option.Proxy({ name: "COMMAND", required: 1 });

  protected async run(): Promise<number> {
    const env: string[] = [];
    for (const file of this.envFile) {
      for (const line of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
        const l = line.trimStart();
        if (l !== "" && !l.startsWith("#")) env.push(l);
      }
    }
    env.push(...this.env);
    const resolved = env.flatMap((e) => {
      if (e.includes("=")) return [e];
      if (e === "") throw new UsageError("invalid environment variable: ");
      const v = this.context.env[e];
      return v === undefined ? [] : [`${e}=${v}`];
    });
    const core = await this.core();
    try {
      const { rec, di } = await this.find(this.container);
      return await di.resolve(core.ContainerService).exec(rec, this.args, {
        tty: this.tty,
        interactive: this.interactive,
        detach: this.detach,
        env: resolved,
        ...(this.user !== undefined ? { user: this.user } : {}),
        ...(this.workdir !== undefined ? { workdir: this.workdir } : {}),
      });
    } catch (err) {
      return this.fail(err, 1);
    }
  }
}
