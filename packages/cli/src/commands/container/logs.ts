import { Command, Option, UsageError } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata logs [-f] [-t] [--tail N] CONTAINER`: a container's output. */
export class ContainerLogsCommand extends ContainerCommand {
  static override paths = [["logs"], ["container", "logs"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Fetch the logs of a container",
    details: `
      Prints what the container wrote, stdout to stdout and stderr to stderr, from its
      json-file log. \`-f\` keeps following the output until the container stops; \`-t\`
      prefixes each line with its RFC 3339 timestamp; \`--tail N\` starts N lines from
      the end.
    `,
    examples: [
      ["Show a container's output", "$0 logs web"],
      ["Follow it, with timestamps", "$0 logs -f -t web"],
    ],
  });

  follow = Option.Boolean("-f,--follow", false, { description: "Follow log output" });
  timestamps = Option.Boolean("-t,--timestamps", false, { description: "Show timestamps" });
  tail = Option.String("-n,--tail", "all", {
    description: 'Number of lines to show from the end of the logs (default "all")',
  });
  container = Option.String({ name: "CONTAINER" });

  protected async run(): Promise<number> {
    let tail = -1;
    if (this.tail !== "all") {
      if (!/^-?\d+$/.test(this.tail)) {
        throw new UsageError(`invalid value for "tail": ${this.tail}`);
      }
      tail = Number(this.tail);
    }
    const core = await this.core();
    const { rec, di } = await this.find(this.container);
    const service = di.resolve(core.ContainerService);
    const file = service.runner.layout.logFile(rec.id);
    let { entries, offset } = core.readLogEntries(file);
    if (tail >= 0) entries = entries.slice(Math.max(0, entries.length - tail));
    await this.show(entries);
    while (this.follow) {
      const running = (await service.get(rec.id)).state.status === "running";
      const next = core.readLogEntries(file, offset);
      offset = next.offset;
      await this.show(next.entries);
      if (!running) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return 0;
  }

  private async show(entries: { log: string; stream: string; time: string }[]): Promise<void> {
    for (const e of entries) {
      const out = e.stream === "stderr" ? this.context.stderr : this.context.stdout;
      const text = this.timestamps ? `${nanoTime(e.time)} ${e.log}` : e.log;
      if (!out.write(text)) await new Promise((r) => out.once("drain", r));
    }
  }
}

/** docker's timestamp format: RFC 3339 with nine fractional digits. */
function nanoTime(iso: string): string {
  return iso.replace(/\.(\d+)Z$/, (_, f: string) => `.${f.padEnd(9, "0")}Z`);
}
