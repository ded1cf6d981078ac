import { describe, expect, it } from "vitest";
import {
  bashCompletion,
  type CompletionSpec,
  completionCommand,
  zshCompletion,
} from "./completion-script.js";

describe("completion scripts", () => {
  it("reads a command's flags and arguments from its clipanion definition", () => {
    expect(
      completionCommand({
        path: "strata image inspect",
        usage: "strata image inspect <IMAGE> ...",
        description: "Display detailed information\n",
        options: [{ definition: "-f,--format #0" }, { definition: "--size" }],
      }),
    ).toEqual({
      path: ["image", "inspect"],
      description: "Display detailed information",
      flags: ["-f", "--format", "--size"],
      valueFlags: ["-f", "--format"],
      args: "image",
    });
    const args = (usage: string) =>
      completionCommand({ path: "strata x", usage, options: [] }).args;
    expect(args("strata x <CONTAINER> ...")).toBe("container");
    expect(args("strata x <NAME|ID> ...")).toBe("object");
    expect(args("strata x <file|URL|-> [REPOSITORY[:TAG]]")).toBe("file");
    expect(args("strata x <bash|zsh>")).toBe("choices:bash zsh");
    expect(args("strata x")).toBe("none");
  });

  const spec: CompletionSpec = {
    commands: [
      {
        path: ["images"],
        description: "List images",
        flags: ["-a"],
        valueFlags: [],
        args: "image",
      },
      {
        path: ["image", "ls"],
        description: "List images",
        flags: ["-a"],
        valueFlags: [],
        args: "image",
      },
      {
        path: ["ps"],
        description: "List: containers",
        flags: ["-a"],
        valueFlags: [],
        args: "none",
      },
    ],
    groups: { image: "Manage images" },
    globalFlags: ["--root", "-D"],
    globalValueFlags: ["--root"],
    drivers: ["vfs", "overlay"],
  };

  it("generates scripts with the command table", () => {
    const bash = bashCompletion(spec);
    expect(bash).toContain("complete -F _strata strata");
    expect(bash).toContain("    '') echo 'image images ps' ;;");
    expect(bash).toContain("    'image') echo 'ls' ;;");
    expect(bash).toContain("'images'|'image ls') echo 'image' ;;");
    const zsh = zshCompletion(spec);
    expect(zsh.startsWith("#compdef strata\n")).toBe(true);
    expect(zsh).toContain("ps\tList\\: containers");
  });
});
