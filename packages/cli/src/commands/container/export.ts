import * as fs from "node:fs";
import { Command, Option } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/** `strata export [-o FILE] CONTAINER`: a container's filesystem as a tar archive. */
export class ContainerExportCommand extends ContainerCommand {
  static override paths = [["export"], ["container", "export"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Export a container's filesystem as a tar archive",
    details: `
      Streams the container's whole root filesystem (its image's content with its
      changes) as a tar to standard output, or to the file \`-o\` names.
    `,
    examples: [
      ["Export to a file", "$0 export -o c1.tar c1"],
      ["Export through a pipe", "$0 export c1 | tar -t"],
    ],
  });

  output = Option.String("-o,--output", { description: "Write to a file, instead of STDOUT" });
  container = Option.String({ name: "CONTAINER" });

  protected async run(): Promise<number> {
    const core = await this.core();
    const { rec, di } = await this.find(this.container);
    const fsys = di.resolve(core.ContainerFilesystem);
    if (this.output === undefined) {
      const out = this.context.stdout as NodeJS.WriteStream;
      if (out.isTTY) {
        throw new core.InvalidArgumentError(
          "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        );
      }
      try {
        await fsys.export(rec, out);
      } catch (err) {
        // The reader went away (`strata export c | head`): nothing left to say to it.
        if ((err as NodeJS.ErrnoException).code !== "EPIPE") throw err;
      }
      return 0;
    }
    const file = fs.createWriteStream(this.output);
    const opened = new Promise<void>((resolve, reject) => {
      file.once("open", () => resolve());
      file.once("error", reject);
    });
    await opened;
    try {
      await fsys.export(rec, file);
    } finally {
      await new Promise<void>((resolve, reject) =>
        file.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
    return 0;
  }
}
