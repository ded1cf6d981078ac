import * as fs from "node:fs";
import * as path from "node:path";
import { Command, Option, UsageError } from "clipanion";
import { humanSize } from "../../format/human-size.js";
import { ContainerCommand } from "./container-command.js";

/** One side of `cp`: a host path, or a path in a container. */
type CpSide = { container?: undefined; path: string } | { container: string; path: string };

/** docker's `splitCpArg`: `CONTAINER:PATH` unless the argument is a (relative or absolute) path. */
function side(arg: string): CpSide {
  if (arg.startsWith("/") || arg.startsWith(".") || arg === "-") return { path: arg };
  const colon = arg.indexOf(":");
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/**
 * Where to extract and under which name, docker's rules: into an existing directory under
 * the source's own name; `SRC/.` copies a directory's content; a missing destination (or
 * an existing file) takes the copy's name.
 */
function target(
  destPath: string,
  destStat: fs.Stats | undefined,
  srcName: string,
  srcIsDir: boolean,
  contents: boolean,
): { parent: "dest" | "parent"; as: string } {
  if (destStat?.isDirectory()) {
    return contents
      ? { parent: "parent", as: path.basename(destPath) }
      : { parent: "dest", as: srcName };
  }
  if (destStat && srcIsDir) throw new UsageError(`cannot copy a directory to a file: ${destPath}`);
  if (!destStat && /\/\.?$/.test(destPath) && !srcIsDir) {
    throw new UsageError(`the destination directory must exist: ${destPath}`);
  }
  return { parent: "parent", as: path.basename(destPath.replace(/\/+$/, "")) };
}

/** `strata cp`: copy files between a container and the host. */
export class ContainerCopyCommand extends ContainerCommand {
  static override paths = [["cp"], ["container", "cp"]];

  static override usage = Command.Usage({
    category: "Containers",
    description: "Copy files/folders between a container and the local filesystem",
    details: `
      \`strata cp CONTAINER:SRC_PATH DEST_PATH|-\` copies out of a container (\`-\` writes
      a tar to stdout); \`strata cp SRC_PATH|- CONTAINER:DEST_PATH\` copies into one (\`-\`
      reads a tar from stdin). The container may be running or stopped. Paths in the
      container are resolved inside it (its symlinks never lead out); a directory ending
      in \`/.\` copies its content. Files copied in belong to root unless \`-a\`.
    `,
    examples: [
      ["Copy a file out of a container", "$0 cp web:/etc/hostname ./hostname"],
      ["Copy a directory into one", "$0 cp ./site web:/var/www"],
    ],
  });

  archive = Option.Boolean("-a,--archive", false, {
    description: "Archive mode (copy all uid/gid information)",
  });
  followLink = Option.Boolean("-L,--follow-link", false, {
    description: "Always follow symbol link in SRC_PATH",
  });
  quiet = Option.Boolean("-q,--quiet", false, {
    description:
      "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
  });
  source = Option.String({ name: "SRC_PATH" });
  dest = Option.String({ name: "DEST_PATH" });

  /** The terminal's byte counter, when one is drawn. */
  private progress: import("../../format/byte-progress.js").ByteProgress | undefined;

  private onProgress(): ((bytes: number) => void) | undefined {
    const progress = this.progress;
    return progress ? (bytes) => progress.update(bytes) : undefined;
  }

  protected async run(): Promise<number> {
    const src = side(this.source);
    const dst = side(this.dest);
    if (src.container !== undefined && dst.container !== undefined) {
      throw new UsageError("copying between containers is not supported");
    }
    if (src.container === undefined && dst.container === undefined) {
      throw new UsageError("must specify at least one container source");
    }
    if (src.path === "" || dst.path === "") throw new UsageError("filepath cannot be empty");
    // As docker's: on a terminal, "Copying from container - 12.3MB" counts on stderr while
    // the copy runs, and is erased before the summary. Without a terminal on stdout docker
    // turns -q on itself: no progress and no summary.
    const out = this.context.stdout as NodeJS.WriteStream;
    const err = this.context.stderr as NodeJS.WriteStream;
    const quiet = this.quiet || !out.isTTY;
    if (err.isTTY && !quiet) {
      const { ByteProgress } = await import("../../format/byte-progress.js");
      const label =
        src.container !== undefined ? "Copying from container -" : "Copying to container -";
      this.progress = new ByteProgress(err, { label, transient: true });
    }
    const copied = await (src.container !== undefined
      ? this.copyOut(src.container, src.path)
      : this.copyIn(dst.container!, dst.path)
    ).finally(() => this.progress?.done());
    if (copied !== undefined && !quiet) {
      this.context.stderr.write(`Successfully copied ${humanSize(copied)} to ${this.dest}\n`);
    }
    return 0;
  }

  private async copyOut(ref: string, srcPath: string): Promise<number | undefined> {
    const core = await this.core();
    const { rec, di } = await this.find(ref);
    const contents = /\/\.$/.test(srcPath);
    return di.resolve(core.ContainerFilesystem).withRootfs(rec, async (root) => {
      const abs = path.posix.resolve("/", srcPath);
      const from = core.resolveInRoot(root, abs, this.followLink || contents);
      const st = fs.lstatSync(from, { throwIfNoEntry: false });
      if (!st) throw new core.NotFoundError(`Could not find the file ${abs} in container ${ref}`);
      const srcName = abs === "/" ? "." : path.posix.basename(abs);
      if (this.dest === "-") {
        const out = this.context.stdout;
        await core.archivePath(from, srcName === "." ? "rootfs" : srcName, {
          async write(chunk) {
            if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
          },
        });
        return undefined;
      }
      const dest = path.resolve(this.dest);
      const t = target(
        this.dest,
        fs.statSync(dest, { throwIfNoEntry: false }),
        srcName,
        st.isDirectory(),
        contents || srcName === ".",
      );
      const dir = t.parent === "dest" ? dest : path.dirname(dest);
      return core.copyPath(from, dir, t.as, false, this.onProgress());
    });
  }

  private async copyIn(ref: string, destPath: string): Promise<number | undefined> {
    const core = await this.core();
    const { rec, di } = await this.find(ref);
    return di.resolve(core.ContainerFilesystem).withRootfs(rec, async (root) => {
      const abs = path.posix.resolve("/", destPath);
      const to = core.resolveInRoot(root, abs);
      const destStat = fs.statSync(to, { throwIfNoEntry: false });
      if (this.source === "-") {
        await core.extractArchive(this.context.stdin, to, this.archive);
        return undefined;
      }
      const from = path.resolve(this.source);
      const st = (this.followLink ? fs.statSync : fs.lstatSync)(from, { throwIfNoEntry: false });
      if (!st) throw new core.NotFoundError(`stat ${from}: no such file or directory`);
      const contents = /\/\.$/.test(this.source);
      const t = target(destPath, destStat, path.basename(from), st.isDirectory(), contents);
      const dir = t.parent === "dest" ? to : core.resolveInRoot(root, path.posix.dirname(abs));
      if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new core.NotFoundError(
          `Could not find the file ${path.posix.dirname(abs)} in container ${ref}`,
        );
      }
      return core.copyPath(from, dir, t.as, this.archive, this.onProgress());
    });
  }
}
