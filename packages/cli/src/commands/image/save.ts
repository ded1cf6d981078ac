import type { ByteSink } from "@strata/core";
import { Command, Option } from "clipanion";
import { StrataCommand } from "../strata-command.js";

/** `strata save [-o FILE] IMAGE…`: write images to a tar archive (docker 25+'s format). */
export class ImageSaveCommand extends StrataCommand {
  static override paths = [["save"], ["image", "save"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Save one or more images to a tar archive (streamed to STDOUT by default)",
    details: `
      Writes the images, with their tags, as the archive docker 25 and later write: an OCI
      image layout (\`oci-layout\`, \`index.json\`, \`blobs/sha256/…\`) with docker's
      \`manifest.json\` and \`repositories\`, readable by \`load\`, \`docker load\`, skopeo
      (\`docker-archive:\`) and, once extracted, by OCI tools such as umoci. \`name:tag\`
      saves that tag, a bare \`name\` every tag of the repository, an ID the image untagged.
      Layers are written as stored. With \`-o\` the archive is written to a temporary file
      that replaces FILE only once it is complete.
    `,
    examples: [
      ["Save an image to a file", "$0 save -o busybox.tar busybox:latest"],
      ["Save several images, compressed", "$0 save busybox alpine:3 | gzip > images.tar.gz"],
    ],
  });

  output = Option.String("-o,--output", {
    description: "Write to a file, instead of STDOUT",
  });
  images = Option.Rest({ required: 1, name: "IMAGE" });

  async execute(): Promise<number> {
    const stdout = this.context.stdout as NodeJS.WritableStream & { isTTY?: boolean };
    if (this.output === undefined && stdout.isTTY) {
      throw new Error("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    if (this.output !== undefined) await validateOutputPath(this.output);
    const archiver = await this.service((c) => c.ImageArchiver);
    // Resolve every name first, so that a bad one fails before anything is written.
    const entries = await archiver.resolve(this.images);
    const output = this.output;
    const { interruptible, INTERRUPTED_EXIT } = await import("../registry/interruptible.js");
    // Ctrl-C stops the save; with -o, the partial file is removed.
    const done = await interruptible(async (signal) => {
      if (output !== undefined) {
        await writeFileAtomically(output, (sink) => archiver.save(entries, sink, { signal }));
        return;
      }
      try {
        await archiver.save(entries, writableSink(this.context.stdout), { signal });
      } catch (err) {
        // The reader went away (`strata save busybox | head`): nothing left to say to it,
        // as `export` does.
        if ((err as NodeJS.ErrnoException).code !== "EPIPE") throw err;
      }
    });
    return done === "interrupted" ? INTERRUPTED_EXIT : 0;
  }
}

/** docker's `ValidateOutputPath`, with its wording. */
async function validateOutputPath(output: string): Promise<void> {
  const { stat } = await import("node:fs/promises");
  const path = await import("node:path");
  const dir = path.dirname(path.normalize(output));
  if (dir !== "" && dir !== ".") {
    const st = await stat(dir).catch(() => undefined);
    if (!st) {
      throw new Error(
        `failed to save image: invalid output path: directory "${dir}" does not exist`,
      );
    }
  }
  const st = await stat(output).catch(() => undefined);
  if (st && !st.isFile()) {
    throw new Error(
      `failed to save image: invalid output path: "${output}" must be a directory or a regular file`,
    );
  }
}

/** Write through `fill` into a temporary file beside `target`, renamed over it when complete. */
async function writeFileAtomically(
  target: string,
  fill: (sink: ByteSink) => Promise<void>,
): Promise<void> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  const { randomBytes } = await import("node:crypto");
  const tmp = path.join(
    path.dirname(target),
    `.strata_temp_${path.basename(target)}.${randomBytes(4).toString("hex")}`,
  );
  const fh = await fs.open(tmp, "wx", 0o644);
  try {
    await fill({
      async write(chunk) {
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
      },
    });
    await fh.close();
    await fs.rename(tmp, target);
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A sink over a writable stream: each write resolves once the stream has taken the chunk
 * (its callback ran), so the saver may reuse the buffer; stream errors (EPIPE) surface.
 */
function writableSink(out: NodeJS.WritableStream): ByteSink {
  let failed: unknown;
  out.on("error", (err) => {
    failed = err;
  });
  return {
    write(chunk) {
      if (failed) return Promise.reject(failed);
      return new Promise<void>((resolve, reject) => {
        out.write(chunk, (err?: Error | null) => (err ? reject(err) : resolve()));
      });
    },
  };
}
