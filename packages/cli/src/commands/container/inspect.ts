import { Command, Option } from "clipanion";
import { MultiError } from "../../errors.js";
import { renderInspect } from "../../format/inspect-format.js";
import { ContainerCommand } from "./container-command.js";

/** `strata container inspect [-f FORMAT] CONTAINER...`: low-level facts about containers. */
export class ContainerInspectCommand extends ContainerCommand {
  static override paths = [["container", "inspect"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Display detailed information on one or more containers",
    details: `
      Prints a JSON array with one object per container, in docker's shape (State,
      HostConfig, GraphDriver, Mounts, Config, …), or \`-f\`'s template per container.
    `,
    examples: [
      ["Inspect a container", "$0 container inspect web"],
      ["Print its exit code", "$0 container inspect -f '{{.State.ExitCode}}' web"],
    ],
  });

  format = Option.String("-f,--format", {
    description: "Format output using a custom template ('json', or a Go template)",
  });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  protected async run(): Promise<number> {
    const core = await this.core();
    const found: unknown[] = [];
    const errors: Error[] = [];
    for (const ref of this.containers) {
      try {
        const { rec, di } = await this.find(ref);
        found.push(await di.resolve(core.ContainerService).inspect(rec.id));
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const out = await renderInspect(found, this.format ?? "");
    this.print(out.text);
    errors.push(...out.errors.filter((e): e is Error => e !== undefined));
    if (errors.length > 0) throw new MultiError(errors);
    return 0;
  }
}
