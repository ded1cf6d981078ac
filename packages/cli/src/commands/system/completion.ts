import { Cli, Command, Option, UsageError } from "clipanion";
import {
  bashCompletion,
  type CompletionSpec,
  completionCommand,
  zshCompletion,
} from "../../format/completion-script.js";
import { StrataCommand } from "../strata-command.js";

/** Management commands and what they manage (as `strata --help` lists them). */
const GROUPS: Record<string, string> = {
  container: "Manage containers",
  image: "Manage images",
  system: "Manage strata",
};

/** Global flags `strata` parses before the command. */
const GLOBAL_FLAGS = [
  "--root",
  "-s",
  "--storage-driver",
  "--storage-opt",
  "--config",
  "--insecure-registry",
  "--registry-mirror",
  "-D",
  "--debug",
  "-v",
  "--version",
  "-h",
  "--help",
];
const GLOBAL_VALUE_FLAGS = [
  "--root",
  "-s",
  "--storage-driver",
  "--storage-opt",
  "--config",
  "--insecure-registry",
  "--registry-mirror",
];

/** `strata completion bash|zsh`: print a shell completion script. */
export class CompletionCommand extends StrataCommand {
  static override paths = [["completion"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Generate the autocompletion script for the specified shell",
    details: `
      Prints a completion script for bash or zsh: commands, management commands, flags,
      storage drivers, and image and container names from the store on the command line.
    `,
    examples: [
      ["Complete in the current bash", "source <(strata completion bash)"],
      ["Install for zsh (a directory of $fpath)", "strata completion zsh > ~/.zfunc/_strata"],
    ],
  });

  shell = Option.String({ name: "bash|zsh" });

  async execute(): Promise<number> {
    const drivers = (await this.context.drivers()).map((d) => d.name);
    // Loaded here: the command list imports this command.
    const { COMMANDS } = await import("../index.js");
    const commands = COMMANDS.flatMap((cls) => {
      const cli = new Cli({ binaryName: "strata" });
      cli.register(cls);
      const [def] = cli.definitions();
      if (!def) return [];
      // Every path of the command (`images`, `image ls`, `image list`) completes alike.
      const first = completionCommand(def);
      return (cls.paths ?? []).map((path) => ({ ...first, path }));
    });
    const spec: CompletionSpec = {
      commands,
      groups: GROUPS,
      globalFlags: GLOBAL_FLAGS,
      globalValueFlags: GLOBAL_VALUE_FLAGS,
      drivers,
    };
    switch (this.shell) {
      case "bash":
        this.print(bashCompletion(spec));
        return 0;
      case "zsh":
        this.print(zshCompletion(spec));
        return 0;
      default:
        throw new UsageError(`unsupported shell: "${this.shell}" (bash or zsh)`);
    }
  }
}
