import { Command, Option, UsageError } from "clipanion";
import { ProgressBoard } from "../../format/progress-board.js";
import { StrataCommand } from "../strata-command.js";
import { INTERRUPTED_EXIT, interruptible } from "./interruptible.js";

/** `strata push [OPTIONS] NAME[:TAG]`: upload an image to a registry. */
export class ImagePushCommand extends StrataCommand {
  static override paths = [["push"], ["image", "push"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Upload an image to a registry",
    details: `
      Uploads the image NAME[:TAG] names (the tag defaults to \`latest\`) to the registry in
      NAME. Layers the repository has already are skipped, layers from another repository
      of the same registry are mounted, the others are uploaded; uncompressed layers
      (imported or committed images) are gzipped first, once: a second push sends nothing.
      Prints the manifest's digest and size.
    `,
    examples: [
      ["Push an image to a local registry", "$0 push 127.0.0.1:5000/tools/busybox:1.36"],
      ["Push every local tag of a repository", "$0 push -a 127.0.0.1:5000/tools/busybox"],
    ],
  });

  allTags = Option.Boolean("-a,--all-tags", false, {
    description: "Push all tags of an image to the repository",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Suppress verbose output" });
  maxConcurrentUploads = Option.String("--max-concurrent-uploads", "5", {
    description: "Maximum number of layers uploaded at once",
  });
  compression = Option.String("--compression", "gzip", {
    description:
      "Compression of uncompressed layers: gzip or zstd (strata only; zstd makes an OCI manifest)",
  });
  disableContentTrust = Option.Boolean("--disable-content-trust", true, {
    description: "Skip image signing (always: strata has no content trust)",
  });
  name = Option.String({ name: "NAME[:TAG]" });

  async execute(): Promise<number> {
    const core = await import("@strata/core");
    const ref = core.parseReference(this.name);
    const concurrency = Number(this.maxConcurrentUploads);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new UsageError(
        `invalid argument "${this.maxConcurrentUploads}" for "--max-concurrent-uploads" flag: must be a positive integer`,
      );
    }
    if (this.compression !== "gzip" && this.compression !== "zstd") {
      throw new UsageError(
        `invalid argument "${this.compression}" for "--compression" flag: want gzip or zstd`,
      );
    }
    const compression = this.compression;
    if (this.allTags && ref.tag !== undefined) {
      throw new UsageError("tag can't be used with --all-tags/-a");
    }
    const container = await this.context.container();
    const pusher = container.resolve(core.ImagePusher);
    const client = container.resolve(core.RegistryClient);
    const images = container.resolve(core.ImageStore);
    const out = this.context.stdout as NodeJS.WriteStream;
    const board = new ProgressBoard(out, out.isTTY === true);
    const say = (status: string) => {
      if (!this.quiet) board.write({ status });
    };
    let tags: string[];
    if (this.allTags) {
      const name = core.fullName(ref);
      tags = (await images.list())
        .flatMap((img) => img.repoTags)
        .map((t) => core.parseReference(t))
        .filter((r) => core.fullName(r) === name && r.tag !== undefined)
        .map((r) => r.tag!)
        .sort();
      if (tags.length === 0) {
        throw new core.NotFoundError(
          `An image does not exist locally with the tag: ${core.familiarName(ref)}`,
        );
      }
    } else {
      if (ref.tag === undefined && ref.digest === undefined) {
        say(`Using default tag: ${core.DEFAULT_TAG}`);
      }
      tags = [ref.tag ?? core.DEFAULT_TAG];
    }
    const pushed: string[] = [];
    const result = await interruptible(async (signal) => {
      for (const tag of tags) {
        const r = await pusher.push(
          { ...ref, tag },
          {
            maxConcurrentUploads: concurrency,
            compression,
            signal,
            ...(this.quiet ? {} : { onProgress: (e) => board.write(e) }),
          },
        );
        say(`${tag}: digest: ${r.digest} size: ${r.size}`);
        pushed.push(core.referenceString(r.reference));
      }
    }).finally(() => client.close());
    if (result === "interrupted") return INTERRUPTED_EXIT;
    if (this.quiet) this.print(pushed.map((p) => `${p}\n`).join(""));
    return 0;
  }
}
