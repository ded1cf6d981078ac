import { Command, Option } from "clipanion";
import { StrataCommand } from "../strata-command.js";

/** `strata load [-i FILE] [-q]`: load images from a tar archive. */
export class ImageLoadCommand extends StrataCommand {
  static override paths = [["load"], ["image", "load"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Load an image from a tar archive or STDIN",
    details: `
      Reads an archive as \`save\` and \`docker save\` write it (docker 25+ and the older
      \`<id>/layer.tar\` format), as skopeo writes \`docker-archive:\`, or an OCI image
      layout archive; plain or compressed (gzip, zstd, bzip2, xz). Every blob is checked against its
      digest and every layer against the config's diff IDs before anything is stored; a
      bad archive changes nothing. Layers the store already has are not written again.
      Prints \`Loaded image: NAME:TAG\` per tag, or \`Loaded image ID: …\` for an untagged
      image. On a terminal, each layer's progress is shown unless \`-q\` is given.
    `,
    examples: [
      ["Load from a file", "$0 load -i busybox.tar"],
      ["Load a compressed archive from standard input", "$0 load < images.tar.gz"],
    ],
  });

  input = Option.String("-i,--input", {
    description: "Read from tar archive file, instead of STDIN",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Suppress the load output" });

  async execute(): Promise<number> {
    const stdin = this.context.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
    if (this.input === undefined && stdin.isTTY) {
      throw new Error("requested load from stdin, but stdin is empty");
    }
    let source: AsyncIterable<Uint8Array>;
    if (this.input === undefined) {
      source = stdin as AsyncIterable<Uint8Array>;
    } else {
      const { open } = await import("node:fs/promises");
      // Open first so that a missing file fails before the store is touched.
      const fh = await open(this.input, "r");
      source = fh.createReadStream({ highWaterMark: 1 << 20 });
    }
    const archiver = await this.service((c) => c.ImageArchiver);
    const stdout = this.context.stdout as NodeJS.WritableStream & {
      isTTY?: boolean;
      columns?: number;
    };
    let progress: import("../../format/progress-bar.js").ProgressLines | undefined;
    if (stdout.isTTY && !this.quiet) {
      const { ProgressLines } = await import("../../format/progress-bar.js");
      progress = new ProgressLines(this.context.stdout, "Loading layer");
    }
    const { interruptible, INTERRUPTED_EXIT } = await import("../registry/interruptible.js");
    // Ctrl-C stops the load cleanly: what was spooled is dropped, nothing is published.
    const loaded = await interruptible(async (signal) => {
      signal.addEventListener("abort", () => (source as { destroy?: () => void }).destroy?.());
      try {
        return await archiver.load(source, {
          signal,
          ...(progress ? { onProgress: (p) => progress.update(p.id, p.current, p.total) } : {}),
        });
      } finally {
        progress?.finish();
      }
    });
    if (loaded === "interrupted") return INTERRUPTED_EXIT;
    for (const image of loaded) {
      for (const m of image.moved) {
        this.print(
          `The image ${m.tag} already exists, renaming the old one with ID ${m.previousId} to empty string\n`,
        );
      }
      for (const tag of image.tags) this.print(`Loaded image: ${tag}\n`);
      if (image.tags.length === 0) this.print(`Loaded image ID: ${image.id}\n`);
    }
    return 0;
  }
}
