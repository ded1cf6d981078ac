import { Command, Option, UsageError } from "clipanion";
import { ProgressBoard } from "../../format/progress-board.js";
import { StrataCommand } from "../strata-command.js";
import { INTERRUPTED_EXIT, interruptible } from "./interruptible.js";

/** `strata pull [OPTIONS] NAME[:TAG|@DIGEST]`: download an image from a registry. */
export class ImagePullCommand extends StrataCommand {
  static override paths = [["pull"], ["image", "pull"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Download an image from a registry",
    details: `
      Resolves NAME (\`docker.io/library/\` is implied for short names; the tag defaults to
      \`latest\`) on its registry, picks this machine's platform (or \`--platform\`) from a
      multi-platform index, and downloads the config and layers into the store, each
      verified against its digest. Layers already stored are not downloaded again. A
      dropped connection resumes where it stopped; Ctrl-C keeps the completed layers.
      docker.io mirrors (\`--registry-mirror\`) are tried first.
    `,
    examples: [
      ["Pull an image from a local registry", "$0 pull 127.0.0.1:5000/library/busybox:latest"],
      ["Pull by digest", "$0 pull 127.0.0.1:5000/library/busybox@sha256:7cc2cb7e…"],
      ["Pull every tag of a repository", "$0 pull -a 127.0.0.1:5000/library/busybox"],
      ["Pull the arm64 image of a multi-platform index", "$0 pull --platform linux/arm64 busybox"],
    ],
  });

  allTags = Option.Boolean("-a,--all-tags", false, {
    description: "Download all tagged images in the repository",
  });
  platform = Option.String("--platform", {
    description: "Set platform if server is multi-platform capable",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Suppress verbose output" });
  maxConcurrentDownloads = Option.String("--max-concurrent-downloads", "3", {
    description: "Maximum number of layers downloaded at once",
  });
  disableContentTrust = Option.Boolean("--disable-content-trust", true, {
    description: "Skip image verification (always: strata has no content trust)",
  });
  name = Option.String({ name: "NAME[:TAG|@DIGEST]" });

  async execute(): Promise<number> {
    const core = await import("@strata/core");
    const ref = core.parseReference(this.name);
    const concurrency = Number(this.maxConcurrentDownloads);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new UsageError(
        `invalid argument "${this.maxConcurrentDownloads}" for "--max-concurrent-downloads" flag: must be a positive integer`,
      );
    }
    if (this.allTags && (ref.tag !== undefined || ref.digest !== undefined)) {
      throw new UsageError("tag can't be used with --all-tags/-a");
    }
    const container = await this.context.container();
    const puller = container.resolve(core.ImagePuller);
    const client = container.resolve(core.RegistryClient);
    const out = this.context.stdout as NodeJS.WriteStream;
    const board = new ProgressBoard(out, out.isTTY === true);
    const say = (status: string) => {
      if (!this.quiet) board.write({ status });
    };
    const onProgress = this.quiet
      ? undefined
      : (e: { id?: string; status: string }) => board.write(e);
    if (!this.allTags && ref.tag === undefined && ref.digest === undefined) {
      say(`Using default tag: ${core.DEFAULT_TAG}`);
    }
    const result = await interruptible(async (signal) => {
      const opts = {
        maxConcurrentDownloads: concurrency,
        signal,
        ...(this.platform !== undefined ? { platform: this.platform } : {}),
        ...(onProgress ? { onProgress } : {}),
      };
      if (!this.allTags) {
        const r = await puller.pull(ref, opts);
        say(`Digest: ${r.digest}`);
        const shown = core.familiarString(r.reference);
        say(
          r.upToDate
            ? `Status: Image is up to date for ${shown}`
            : `Status: Downloaded newer image for ${shown}`,
        );
        return core.referenceString(r.reference);
      }
      let upToDate = true;
      for (const tag of await puller.tags(ref, signal)) {
        const r = await puller.pull({ ...ref, tag }, opts);
        say(`Digest: ${r.digest}`);
        upToDate &&= r.upToDate;
      }
      const shown = core.familiarName(ref);
      say(
        upToDate
          ? `Status: Image is up to date for ${shown}`
          : `Status: Downloaded newer image for ${shown}`,
      );
      return core.fullName(ref);
    }).finally(() => client.close());
    if (result === "interrupted") return INTERRUPTED_EXIT;
    this.print(`${result}\n`);
    return 0;
  }
}
