import { Command, Option } from "clipanion";
import { parseBool } from "../../global-options.js";
import { ContainerCommand } from "./container-command.js";

/** `strata commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`: an image from a container's changes. */
export class ContainerCommitCommand extends ContainerCommand {
  static override paths = [["commit"], ["container", "commit"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Create a new image from a container's changes",
    details: `
      Writes the container's changes as one new layer on top of its image's (in one
      pass: walk, tar, hash, store), with the container's configuration, \`-c\`
      instructions applied to it, and a history entry carrying \`-m\` and \`-a\`. A running
      container is paused while its layer is written unless \`-p=false\`. Prints the new
      image's ID. On a terminal, the layer's size so far is shown (on stderr) while it is
      written.
    `,
    examples: [
      ["Commit a container as a new image", '$0 commit -m "added files" -a "me" c1 newimage'],
      ["Change the new image's command", `$0 commit -c 'CMD ["/bin/sh"]' c1 newimage:v2`],
    ],
  });

  author = Option.String("-a,--author", {
    description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")',
  });
  message = Option.String("-m,--message", { description: "Commit message" });
  pause = Option.String("-p,--pause", {
    tolerateBoolean: true,
    description: "Pause container during commit (default true)",
  });
  changes = Option.Array("-c,--change", [], {
    description: "Apply Dockerfile instruction to the created image",
  });
  container = Option.String({ name: "CONTAINER" });
  reference = Option.String({ required: false, name: "REPOSITORY[:TAG]" });

  protected async run(): Promise<number> {
    const pause =
      this.pause === undefined || this.pause === true
        ? true
        : parseBool("--pause", String(this.pause));
    const core = await this.core();
    const { rec, di } = await this.find(this.container);
    // On a terminal, a line counting the layer's bytes while it is written (on stderr, and
    // erased when done: what commit prints stays docker's, the new image ID alone).
    const stderr = this.context.stderr as NodeJS.WriteStream;
    let progress: import("../../format/byte-progress.js").ByteProgress | undefined;
    if (stderr.isTTY) {
      const { ByteProgress } = await import("../../format/byte-progress.js");
      progress = new ByteProgress(stderr, { label: "Committing layer", transient: true });
    }
    const image = await di
      .resolve(core.ContainerFilesystem)
      .commit(rec, {
        pause,
        changes: this.changes,
        ...(progress ? { onProgress: (n: number) => progress.update(n) } : {}),
        ...(this.reference !== undefined ? { reference: this.reference } : {}),
        ...(this.message !== undefined ? { message: this.message } : {}),
        ...(this.author !== undefined ? { author: this.author } : {}),
      })
      .finally(() => progress?.done());
    this.print(`${image.id}\n`);
    return 0;
  }
}
