import * as os from "node:os";
import * as path from "node:path";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { emptyContainerConfig } from "../image/config-changes.js";
import type { ContainerConfig } from "../image/image-types.js";
import type { CreateContainerOptions, NetworkMode } from "./container-types.js";
import { mergeEnv } from "./oci-spec.js";

/**
 * The `--network` mode for a value of the flag: `none` (the default) or `host`.
 * @throws NotSupportedError for other networks (docker's bridge, user networks).
 */
export function parseNetwork(value: string | undefined): NetworkMode {
  if (value === undefined || value === "none") return "none";
  if (value === "host") return "host";
  throw new NotSupportedError(
    `network "${value}": not supported; strata runs containers with --network none (the default) or --network host`,
  );
}

/**
 * Check a `-v HOST:CONTAINER[:MODE]` value and make its host path absolute.
 * @throws InvalidArgumentError for a malformed value; NotSupportedError for a named volume.
 */
export function parseBind(spec: string): string {
  const parts = spec.split(":");
  const [source = "", destination = "", mode] = parts;
  if (parts.length < 2 || parts.length > 3 || destination === "") {
    throw new InvalidArgumentError(`invalid volume specification: '${spec}'`);
  }
  if (!source.startsWith("/") && !source.startsWith(".")) {
    throw new NotSupportedError(
      `volume "${source}": named volumes are not supported; give an absolute host path`,
    );
  }
  if (!destination.startsWith("/")) {
    throw new InvalidArgumentError(
      `invalid volume specification: '${spec}': invalid mount config: invalid mount path: '${destination}' mount path must be absolute`,
    );
  }
  if (mode !== undefined && !/^(ro|rw|z|Z)(,(ro|rw|z|Z))*$/.test(mode)) {
    throw new InvalidArgumentError(`invalid mode: ${mode}`);
  }
  return [path.resolve(source), destination, ...(mode ? [mode] : [])].join(":");
}

/**
 * The container's effective config (docker's `Config`): the image's, with `create`'s
 * options over it; the hostname defaults to the ID's first 12 digits (the host's name with
 * `--network host`).
 * @throws InvalidArgumentError when there is no command or the working directory is relative.
 */
export function containerConfig(
  image: ContainerConfig | undefined,
  opts: CreateContainerOptions,
  id: string,
  network: NetworkMode,
): ContainerConfig {
  const base = { ...emptyContainerConfig(), ...(image ?? {}) };
  let entrypoint = base.Entrypoint ?? null;
  let cmd = opts.cmd && opts.cmd.length > 0 ? opts.cmd : (base.Cmd ?? null);
  if (opts.entrypoint !== undefined) {
    // docker: a new entrypoint drops the image's CMD; an empty one clears both.
    entrypoint = opts.entrypoint === "" ? null : [opts.entrypoint];
    cmd = opts.cmd && opts.cmd.length > 0 ? opts.cmd : null;
  }
  if ((entrypoint?.length ?? 0) + (cmd?.length ?? 0) === 0) {
    throw new InvalidArgumentError("No command specified");
  }
  const workdir = opts.workdir ?? base.WorkingDir ?? "";
  if (workdir !== "" && !workdir.startsWith("/")) {
    throw new InvalidArgumentError(
      `the working directory '${workdir}' is invalid, it needs to be an absolute path`,
    );
  }
  const hostname = opts.hostname || (network === "host" ? os.hostname() : id.slice(0, 12));
  return {
    ...base,
    Hostname: hostname,
    User: opts.user ?? base.User ?? "",
    AttachStdin: !!opts.openStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: !!opts.tty,
    OpenStdin: !!opts.openStdin,
    StdinOnce: !!opts.openStdin,
    Env: mergeEnv(base.Env ?? [], opts.env ?? []),
    Cmd: cmd,
    Image: opts.image,
    WorkingDir: workdir,
    Entrypoint: entrypoint,
  };
}

/**
 * A signal as runc takes it (`SIGTERM`), from docker's forms: `TERM`, `SIGTERM`, `15`.
 * @throws InvalidArgumentError `Invalid signal: X`.
 */
export function normalizeSignal(signal: string): string {
  const s = signal.trim().toUpperCase();
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    const name = Object.keys(signals).find((k) => signals[k] === n);
    if (name && n > 0) return name;
  } else {
    const name = s.startsWith("SIG") ? s : `SIG${s}`;
    if (signals[name] !== undefined) return name;
  }
  throw new InvalidArgumentError(`Invalid signal: ${signal}`);
}
