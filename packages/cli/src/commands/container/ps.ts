import { Command, Option, UsageError } from "clipanion";
import {
  CONTAINER_HEADER,
  containerContext,
  containerFormat,
} from "../../format/container-context.js";
import {
  type ContainerListItem,
  containerIdCell,
  containerTable,
} from "../../format/container-rows.js";
import { truncateId } from "../../format/ids.js";
import { formatTable } from "../../format/table-writer.js";
import { renderFormat } from "../../format/template-format.js";
import { ContainerCommand } from "./container-command.js";

/** `strata ps [-a] [-q] [--no-trunc] [-n N] [-l]`: list containers. */
export class ContainerListCommand extends ContainerCommand {
  static override paths = [["ps"], ["container", "ls"], ["container", "list"], ["container", "ps"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "List containers",
    details: `
      Lists running containers, newest first, with docker's columns (CONTAINER ID,
      IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES); \`-a\` adds stopped and created
      ones. Containers of every storage driver are listed.
    `,
    examples: [
      ["List running containers", "$0 ps"],
      ["List all containers' IDs", "$0 ps -a -q"],
    ],
  });

  all = Option.Boolean("-a,--all", false, {
    description: "Show all containers (default shows just running)",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Only display container IDs" });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "Don't truncate output" });
  last = Option.String("-n,--last", {
    description: "Show n last created containers (includes all states)",
  });
  latest = Option.Boolean("-l,--latest", false, {
    description: "Show the latest created container (includes all states)",
  });
  format = Option.String("--format", {
    description:
      "Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template with .ID .Image .Command .RunningFor .Status .Names .Label …)",
  });

  protected async run(): Promise<number> {
    const core = await this.core();
    const di = await this.context.container();
    const service = di.resolve(core.ContainerService);
    const images = di.resolve(core.ImageStore);
    let recs = await service.list();
    let limit = -1;
    if (this.last !== undefined) {
      if (!/^-?\d+$/.test(this.last))
        throw new UsageError(`invalid argument "${this.last}" for "-n, --last" flag`);
      limit = Number(this.last);
    }
    if (this.latest) limit = 1;
    if (limit >= 0) recs = recs.slice(0, limit);
    else if (!this.all) recs = recs.filter((r) => r.state.status === "running");
    if (this.quiet && this.format === undefined) {
      this.print(recs.map((r) => `${containerIdCell(r, this.noTrunc)}\n`).join(""));
      return 0;
    }
    const items: ContainerListItem[] = [];
    // What each image name resolves to now, looked up once however many containers use it.
    const resolved = new Map<string, Promise<string | undefined>>();
    const idOf = (name: string) => {
      let p = resolved.get(name);
      if (!p) {
        p = images.resolve(name).then(
          (img) => img.id,
          () => undefined,
        );
        resolved.set(name, p);
      }
      return p;
    };
    for (const rec of recs) {
      const paused =
        rec.state.status === "running" && (await service.runner.runtimeStatus(rec.id)) === "paused";
      const name = rec.config.Image ?? "";
      // docker shows the name the container was made with while it still names its image.
      const image = (await idOf(name)) === rec.imageId ? name : truncateId(rec.imageId);
      items.push({ rec, paused, image });
    }
    if (this.format !== undefined) {
      const format = containerFormat(this.format, this.quiet, false);
      const rows = items.map((i) => containerContext(i, { trunc: !this.noTrunc }));
      this.print(await renderFormat({ format, rows, header: CONTAINER_HEADER }));
      return 0;
    }
    this.print(formatTable(containerTable(items, { noTrunc: this.noTrunc })));
    return 0;
  }
}
