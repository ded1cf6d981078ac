import { Writable } from "node:stream";
import { Command, Option, UsageError } from "clipanion";
import { ByteProgress } from "../../format/byte-progress.js";
import { humanSize } from "../../format/human-size.js";
import { StrataCommand } from "../strata-command.js";

/** `strata build [OPTIONS] PATH|-`: build an image from a Dockerfile, as docker's classic builder. */
export class ImageBuildCommand extends StrataCommand {
  static override paths = [["build"], ["image", "build"], ["builder", "build"]];

  static override usage = Command.Usage({
    category: "Images",
    description: "Build an image from a Dockerfile",
    details: `
      Runs the Dockerfile's instructions in order, each step making an image: RUN in a
      container on the selected storage driver (with runc, network \`none\` unless
      \`--network host\`; docker's default bridge network is not available), COPY and ADD
      from the context (or \`--from\` a stage or image), the rest in the config alone. A
      step already made on the same parent with the same instruction (and, for COPY and
      ADD, the same file contents) is taken from the build cache: \` ---> Using cache\`.

      The context is a directory, or \`-\`: a tar archive (plain or gzip) on standard
      input, or a Dockerfile alone. \`.dockerignore\` in the context hides paths from COPY
      and ADD. \`-f\` names the Dockerfile (default \`PATH/Dockerfile\`; \`-\` reads it from
      standard input). The output is docker's classic builder's; \`-q\` prints only the
      image ID.
    `,
    examples: [
      ["Build the current directory and tag the image", "$0 build -t shiyanlou ."],
      [
        "Build with a build argument, without the cache",
        "$0 build --build-arg VERSION=2 --no-cache -t app:2 .",
      ],
      [
        "Build one stage of a multi-stage Dockerfile",
        "$0 build --target builder -f build/Dockerfile .",
      ],
      ["Build from a tar context on standard input", "tar -C ctx -c . | $0 build -t app -"],
    ],
  });

  tags = Option.Array("-t,--tag", [], {
    description: "Name and optionally a tag in the 'name:tag' format",
  });
  file = Option.String("-f,--file", {
    description: "Name of the Dockerfile (Default is 'PATH/Dockerfile')",
  });
  buildArgs = Option.Array("--build-arg", [], { description: "Set build-time variables" });
  noCache = Option.Boolean("--no-cache", false, {
    description: "Do not use cache when building the image",
  });
  target = Option.String("--target", { description: "Set the target build stage to build." });
  labels = Option.Array("--label", [], { description: "Set metadata for an image" });
  quiet = Option.Boolean("-q,--quiet", false, {
    description: "Suppress the build output and print image ID on success",
  });
  network = Option.String("--network", {
    description: "Networking mode for the RUN instructions during build (none or host)",
  });
  iidfile = Option.String("--iidfile", { description: "Write the image ID to the file" });
  rm = Option.Boolean("--rm", true, {
    description: "Remove intermediate containers after a successful build (always)",
  });
  contextPath = Option.String({ name: "PATH|-" });

  async execute(): Promise<number> {
    const [core, fs, os, path] = await Promise.all([
      import("@strata/core"),
      import("node:fs"),
      import("node:os"),
      import("node:path"),
    ]);
    if (this.contextPath === "-" && this.file === "-") {
      throw new UsageError(
        "invalid argument: can't use stdin for both build context and dockerfile",
      );
    }
    const buildArgs: Record<string, string> = {};
    for (const a of this.buildArgs) {
      const eq = a.indexOf("=");
      if (eq === 0)
        throw new UsageError(`invalid argument "${a}" for "--build-arg" flag: invalid key`);
      if (eq > 0) buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
      else if (process.env[a] !== undefined) buildArgs[a] = process.env[a]!;
    }
    const labels: Record<string, string> = {};
    for (const l of this.labels) {
      const eq = l.indexOf("=");
      labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
    }
    for (const t of this.tags) {
      try {
        core.parseTagTarget(t);
      } catch (err) {
        throw new UsageError(
          `invalid argument "${t}" for "-t, --tag" flag: ${(err as Error).message}`,
        );
      }
    }

    let contextDir: string;
    let tempContext: string | undefined;
    let dockerfileText: string | undefined;
    if (this.contextPath === "-") {
      // A context piped in can be large: count it on the terminal while it arrives (the line
      // is erased; the size is printed below as docker prints it).
      const receiving = new ByteProgress(this.context.stderr, {
        label: "Reading build context",
        quiet: this.quiet,
        transient: true,
      });
      const input = await readAll(receiving.track(this.context.stdin as AsyncIterable<Uint8Array>));
      tempContext = fs.mkdtempSync(path.join(os.tmpdir(), "strata-build-context-"));
      contextDir = tempContext;
      const kind = contextKind(input);
      if (kind === "text") dockerfileText = input.toString("utf8");
      else {
        const { gunzipSync } = await import("node:zlib");
        const tar = kind === "gzip" ? gunzipSync(input) : input;
        await core.extractArchive(
          (async function* () {
            yield tar;
          })(),
          contextDir,
        );
      }
    } else {
      contextDir = path.resolve(this.contextPath);
      const st = fs.statSync(contextDir, { throwIfNoEntry: false });
      if (!st)
        throw new core.InvalidArgumentError(
          `unable to prepare context: path "${this.contextPath}" not found`,
        );
      if (!st.isDirectory()) {
        throw new core.InvalidArgumentError(
          `unable to prepare context: context must be a directory: ${contextDir}`,
        );
      }
    }
    try {
      if (dockerfileText === undefined) {
        if (this.file === "-")
          dockerfileText = (await readAll(this.context.stdin)).toString("utf8");
        else {
          const file =
            this.file === undefined ? path.join(contextDir, "Dockerfile") : path.resolve(this.file);
          try {
            dockerfileText = fs.readFileSync(file, "utf8");
          } catch {
            throw new core.InvalidArgumentError(
              `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${file}: no such file or directory`,
            );
          }
        }
      }
      const dockerfile = core.parseDockerfile(dockerfileText);
      const ignore = core.readDockerignore(contextDir);
      const out: Writable = this.quiet ? new BufferSink() : this.context.stdout;
      for (const w of dockerfile.warnings) this.context.stderr.write(`[Warning] ${w}\n`);
      if (!this.quiet) {
        const size = new core.SourceTree(contextDir, ignore).tarSize();
        out.write(`Sending build context to Docker daemon  ${humanSize(size, 4)}\n`);
      }
      const builder = await this.service((c) => c.Builder);
      try {
        const res = await builder.build(dockerfile, {
          contextDir,
          tags: this.tags,
          buildArgs,
          noCache: this.noCache,
          ...(this.target !== undefined ? { target: this.target } : {}),
          labels,
          ...(this.network !== undefined ? { network: this.network } : {}),
          ...(ignore ? { ignore } : {}),
          out,
        });
        if (this.iidfile !== undefined) fs.writeFileSync(this.iidfile, res.imageId);
        if (this.quiet) this.print(`${res.imageId}\n`);
        return 0;
      } catch (err) {
        if (out instanceof BufferSink) this.context.stderr.write(out.text());
        if (err instanceof core.BuildStepError) {
          this.context.stderr.write(`${err.message}\n`);
          return err.exitCode;
        }
        throw err;
      }
    } finally {
      if (tempContext) fs.rmSync(tempContext, { recursive: true, force: true });
    }
  }
}

/** Collects what a quiet build would have printed (shown when it fails). */
class BufferSink extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

async function readAll(input: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** What came on stdin: a tar, a gzip'd tar, or a Dockerfile's text. */
function contextKind(b: Buffer): "tar" | "gzip" | "text" {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.length >= 262 && b.subarray(257, 262).toString("latin1") === "ustar") return "tar";
  return "text";
}
