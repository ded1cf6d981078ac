import type { ContainerConfig } from "../image/image-types.js";
import type { ProgressListener } from "../registry/progress.js";

/**
 * Lifecycle status of a container, as docker names them. `paused` is never stored: it is
 * what runc reports for a running container that `commit -p` (or `pause`) froze.
 */
export type ContainerStatus = "created" | "running" | "paused" | "exited" | "dead";

/** Networking a container gets: its own empty network namespace, or the host's. */
export type NetworkMode = "none" | "host";

/**
 * What strata knows about a container's process, stored with its row and changed only in
 * write transactions (the monitor that watches runc and every command read it).
 */
export interface ContainerState {
  /** `created`, `running` or `exited`; `dead` when its removal failed half-way. */
  status: Exclude<ContainerStatus, "paused">;
  /**
   * The process watching `runc run`: `strata run` itself in the foreground, or the
   * detached supervisor. While it lives, it records the exit; when it is gone and runc no
   * longer knows the container, any strata command records the exit instead (code 255).
   */
  monitorPid?: number;
  /** The nonce of the start attempt that wrote this state (lets `start` wait for its own). */
  attempt?: string;
  /** The container's exit code (or the code strata exited with when it failed to start). */
  exitCode?: number;
  /** Why the last start failed. */
  error?: string;
  /** When the last start began running the command (ISO 8601). */
  startedAt?: string;
  /** When the command last exited (ISO 8601). */
  finishedAt?: string;
}

/** How a container is wired to the host: docker's `HostConfig`, the parts strata has. */
export interface HostConfig {
  /** `-v HOST:CONTAINER[:ro]` bind mounts, as given (host paths made absolute). */
  binds: string[];
  /** `--network`. */
  networkMode: NetworkMode;
  /** `--rm`: remove the container when its command exits. */
  autoRemove: boolean;
}

/** A container as the store holds it. */
export interface ContainerRecord {
  /** 64 hex digits. */
  id: string;
  /** Unique name, without docker's leading `/`. */
  name: string;
  /** ID of the image it was created from. */
  imageId: string;
  /** Storage driver that holds its snapshot. */
  driver: string;
  created: Date;
  /**
   * The effective configuration (docker's `Config`): the image's config with the create
   * options applied; `Image` holds the image as the user named it.
   */
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
}

/** What `create` and `run` take (docker's flags). */
export interface CreateContainerOptions {
  /** The image, as the user typed it. */
  image: string;
  /** `--name`; generated (`adjective_surname`) when absent. */
  name?: string;
  /** Arguments after the image: replace the image's `Cmd`. */
  cmd?: string[];
  /** `--entrypoint`: replaces the image's `Entrypoint` (`""` clears it and its `Cmd`). */
  entrypoint?: string;
  /** `-e` and `--env-file` values, `KEY=VALUE`, in order (later ones win). */
  env?: string[];
  /** `-w`. */
  workdir?: string;
  /** `-u` `user[:group]` (names or numbers). */
  user?: string;
  /** `--hostname`; default: the first 12 digits of the ID. */
  hostname?: string;
  /** `-t`. */
  tty?: boolean;
  /** `-i`. */
  openStdin?: boolean;
  /** `-v`. */
  binds?: string[];
  /** `--network`: `none` (default) or `host`. */
  network?: string;
  /** `--rm`. */
  autoRemove?: boolean;
  /** Told of the image's layers being unpacked for the driver (see `LayerUnpacker.unpack`). */
  onProgress?: ProgressListener;
}

/** What the `diff` of a container lists, one per line: `A /a`. */
export interface ContainerChange {
  kind: "A" | "C" | "D";
  path: string;
}

/** Options of `ContainerService.commit` (`docker commit`). */
export interface CommitOptions {
  /** `REPOSITORY[:TAG]` for the new image. */
  reference?: string;
  /** `-m`. */
  message?: string;
  /** `-a`. */
  author?: string;
  /** `-p` (default true): freeze a running container while its layer is written. */
  pause?: boolean;
  /** `-c` Dockerfile instructions applied to the new config. */
  changes?: string[];
  /** Told the bytes of layer tar written so far (see `DiffOptions.onProgress`). */
  onProgress?: (bytes: number) => void;
}

/** The command line a container runs: entrypoint followed by cmd. */
export function containerCommand(config: ContainerConfig): string[] {
  return [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
}

/** docker's short form of an ID: its first 12 hex digits. */
export function shortContainerId(id: string): string {
  return id.slice(0, 12);
}
