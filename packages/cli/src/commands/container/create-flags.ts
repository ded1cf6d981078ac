import * as fs from "node:fs";
import type { ContainerRecord, CreateContainerOptions, DependencyContainer } from "@strata/core";
import { Option, UsageError } from "clipanion";
import { ContainerCommand } from "./container-command.js";

/**
 * The flags `run` and `create` share (docker's container-create flags that strata has),
 * and the step both take first: make the container.
 */
export abstract class CreateFlagsCommand extends ContainerCommand {
  tty = Option.Boolean("-t,--tty", false, { description: "Allocate a pseudo-TTY" });
  interactive = Option.Boolean("-i,--interactive", false, {
    description: "Keep STDIN open even if not attached",
  });
  name = Option.String("--name", { description: "Assign a name to the container" });
  env = Option.Array("-e,--env", [], { description: "Set environment variables" });
  envFile = Option.Array("--env-file", [], {
    description: "Read in a file of environment variables",
  });
  workdir = Option.String("-w,--workdir", {
    description: "Working directory inside the container",
  });
  user = Option.String("-u,--user", {
    description: "Username or UID (format: <name|uid>[:<group|gid>])",
  });
  entrypoint = Option.String("--entrypoint", {
    description: "Overwrite the default ENTRYPOINT of the image",
  });
  hostname = Option.String("--hostname", { description: "Container host name" });
  volumes = Option.Array("-v,--volume", [], {
    description: "Bind mount a volume (HOST:CONTAINER[:ro])",
  });
  network = Option.String("--network,--net", {
    description: 'Connect a container to a network: "none" (default) or "host"',
  });
  autoRemove = Option.Boolean("--rm", false, {
    description: "Automatically remove the container when it exits",
  });
  pull = Option.String("--pull", "missing", {
    description: 'Pull image before running ("always", "missing", "never")',
  });
  quiet = Option.Boolean("-q,--quiet", false, {
    description: "Suppress the pull output (and the unpacking progress)",
  });
  image = Option.String({ name: "IMAGE" });
  args = Option.Proxy({ name: "COMMAND" });

  /** The container's environment from `--env-file` then `-e`, docker's rules. */
  protected environment(): string[] {
    const out: string[] = [];
    const add = (entry: string, where: string) => {
      const eq = entry.indexOf("=");
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (key === "" || /\s/.test(key)) {
        throw new UsageError(`invalid environment variable: ${entry}${where}`);
      }
      if (eq >= 0) out.push(entry);
      else if (this.context.env[key] !== undefined) out.push(`${key}=${this.context.env[key]}`);
    };
    for (const file of this.envFile) {
      const text = fs.readFileSync(file, "utf8");
      for (const raw of text.split(/\r?\n/)) {
        const line = raw.replace(/^\s+/, "");
        if (line === "" || line.startsWith("#")) continue;
        add(line, ` (in ${file})`);
      }
    }
    for (const e of this.env) add(e, "");
    return out;
  }

  /**
   * Pull the image first when `--pull` says so (`missing`, the default: only when the store
   * lacks it), reporting on stderr as docker's `run` does.
   */
  protected async pullIfNeeded(di: DependencyContainer): Promise<void> {
    if (!["always", "missing", "never"].includes(this.pull)) {
      throw new UsageError(
        `invalid pull option: '${this.pull}': must be one of "always", "missing" or "never"`,
      );
    }
    if (this.pull === "never") return;
    const core = await this.core();
    let ref: import("@strata/core").Reference;
    try {
      ref = core.withDefaultTag(core.parseReference(this.image));
    } catch {
      return; // not a name (an ID prefix): nothing to pull; create reports it missing
    }
    const { stderr } = this.context;
    if (this.pull === "missing") {
      const present = await di
        .resolve(core.ImageStore)
        .resolve(this.image)
        .then(
          () => true,
          (err: unknown) => {
            if (err instanceof core.NotFoundError) return false;
            throw err;
          },
        );
      if (present) return;
      if (!this.quiet) stderr.write(`Unable to find image '${core.familiarString(ref)}' locally\n`);
    }
    const { ProgressBoard } = await import("../../format/progress-board.js");
    const board = new ProgressBoard(stderr, (stderr as NodeJS.WriteStream).isTTY === true);
    const show = (e: import("@strata/core").ProgressEvent) => {
      if (!this.quiet) board.write(e);
    };
    const client = di.resolve(core.RegistryClient);
    try {
      const r = await di.resolve(core.ImagePuller).pull(ref, { onProgress: show });
      show({ status: `Digest: ${r.digest}` });
      const shown = core.familiarString(r.reference);
      show({
        status: r.upToDate
          ? `Status: Image is up to date for ${shown}`
          : `Status: Downloaded newer image for ${shown}`,
      });
    } finally {
      await client.close();
    }
  }

  /** Create the container the flags describe, in the selected driver. */
  protected async createContainer(): Promise<{ rec: ContainerRecord; di: DependencyContainer }> {
    const core = await this.core();
    const di = await this.context.container();
    await this.pullIfNeeded(di);
    const opts: CreateContainerOptions = {
      image: this.image,
      cmd: this.args,
      env: this.environment(),
      tty: this.tty,
      openStdin: this.interactive,
      binds: this.volumes,
      autoRemove: this.autoRemove,
    };
    if (this.name !== undefined) opts.name = this.name;
    if (this.entrypoint !== undefined) opts.entrypoint = this.entrypoint;
    if (this.workdir !== undefined) opts.workdir = this.workdir;
    if (this.user !== undefined) opts.user = this.user;
    if (this.hostname !== undefined) opts.hostname = this.hostname;
    if (this.network !== undefined) opts.network = this.network;
    // Unpacking the image for this driver (its first use here) shows per-layer progress on
    // a terminal, as a pull's extraction does in docker; nothing when piped or with -q.
    const stderr = this.context.stderr as NodeJS.WriteStream;
    if (stderr.isTTY && !this.quiet) {
      const { ProgressBoard } = await import("../../format/progress-board.js");
      const board = new ProgressBoard(stderr, true);
      opts.onProgress = (e) => board.write(e);
    }
    const rec = await di.resolve(core.ContainerService).create(opts);
    return { rec, di };
  }
}
