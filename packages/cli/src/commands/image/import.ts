import { Command, Option, UsageError } from "clipanion";
import { StrataCommand } from "../strata-command.js";

/** `strata import FILE|URL|- [REPOSITORY[:TAG]]`: make an image from a root filesystem tarball. */
export class ImageImportCommand extends StrataCommand {
  static override paths = [["import"], ["image", "import"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Import the contents from a tarball to create a filesystem image",
    details: `
      Reads a tar archive of a root filesystem (plain, gzip or zstd compressed) from a
      file or, with \`-\`, from standard input, stores it as a single-layer image and
      prints the new image's ID. \`-c\` applies Dockerfile instructions (CMD, ENTRYPOINT,
      ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD) to its config.
      Importing from a URL is not supported yet.
    `,
    examples: [
      ["Import a tarball and tag it", "$0 import rootfs.tar busybox:latest"],
      ["Import from standard input", "cat rootfs.tar | $0 import - busybox"],
      [
        "Import with config changes and a message",
        `$0 import -c 'CMD ["/bin/sh"]' -c 'ENV A=b' -m "base image" rootfs.tar mybox`,
      ],
    ],
  });

  changes = Option.Array("-c,--change", [], {
    description: "Apply Dockerfile instruction to the created image",
  });
  message = Option.String("-m,--message", { description: "Set commit message for imported image" });
  platform = Option.String("--platform", {
    description: "Set platform (os/arch[/variant]) of the image; default: this machine's",
  });
  source = Option.String({ name: "file|URL|-" });
  reference = Option.String({ required: false, name: "REPOSITORY[:TAG]" });

  async execute(): Promise<number> {
    if (this.source === "") throw new UsageError("import source must not be empty");
    const [core, images] = await Promise.all([
      import("@strata/core"),
      this.service((c) => c.ImageStore),
    ]);
    if (/^https?:\/\//.test(this.source)) {
      throw new core.NotSupportedError(`import from URL "${this.source}": not supported yet`);
    }
    let input: AsyncIterable<Uint8Array>;
    if (this.source === "-") {
      input = this.context.stdin;
    } else {
      const { open } = await import("node:fs/promises");
      // Open first so that a missing file fails before anything is written.
      const fh = await open(this.source, "r");
      input = fh.createReadStream();
    }
    const image = await images.importImage(input, {
      // docker's client sends "-" as the source name for files and stdin alike.
      sourceName: "-",
      ...(this.reference !== undefined ? { reference: this.reference } : {}),
      ...(this.message !== undefined ? { message: this.message } : {}),
      changes: this.changes ?? [],
      ...(this.platform !== undefined ? { platform: this.platform } : {}),
    });
    this.print(`${image.id}\n`);
    return 0;
  }
}
