import type { Descriptor, Platform } from "../content/descriptor.js";

/** The runtime part of an image config (`config` in the OCI / docker image config). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: Record<string, unknown>;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

/** One `history` entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An image config as docker and the OCI image-spec (`config.md`) define it. */
export interface ImageConfig extends Platform {
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  container?: string;
  container_config?: ContainerConfig;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

/** A docker schema 2 or OCI image manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** One layer of a stored image. */
export interface LayerRecord {
  /** Digest of the uncompressed layer tar. */
  diffId: string;
  /** Chain ID of the stack up to and including this layer. */
  chainId: string;
  /** The blob that holds this layer in the content store. */
  blob: Descriptor;
  /** Bytes of file content the layer adds (docker's layer size). */
  size: number;
}

/** An image as the store holds it. */
export interface ImageRecord {
  /** Image ID: `sha256:` + hex of the config blob's digest. */
  id: string;
  config: ImageConfig;
  /** Digest of the manifest blob strata keeps for the image. */
  manifestDigest: string;
  /** Sum of the layers' sizes (docker's `Size`). */
  size: number;
  /** Creation time from the config (epoch when absent). */
  created: Date;
  /** Tags pointing at the image, familiar form (`busybox:latest`), sorted. */
  repoTags: string[];
  /** Registry digests (`busybox@sha256:…`), familiar form, sorted. */
  repoDigests: string[];
  layers: LayerRecord[];
  /** Parent image ID (images made by commit or build), else undefined. */
  parent?: string;
  /** Set when the image's config could not be read or verified (a damaged store). */
  problem?: string;
  /** Last time a tag was added (docker's `Metadata.LastTagTime`). */
  lastTagTime?: Date;
}

/** One line of `history`: newest first. */
export interface ImageHistoryItem {
  /** The image ID for the top entry that is an image, else `<missing>`. */
  id: string;
  created: Date;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

/** One line of `rmi`'s output. */
export type RemovedItem = { untagged: string } | { deleted: string };

/** Options of `ImageStore.importImage`. */
export interface ImportOptions {
  /** What the user imported from (`-`, a path, a URL): goes into the history comment. */
  sourceName: string;
  /** `REPOSITORY[:TAG]` to tag the new image with. */
  reference?: string;
  /** `-m`: the commit message (history comment and config comment). */
  message?: string;
  /** `-c`/`--change`: Dockerfile instructions applied to the config (CMD, ENV, …). */
  changes?: string[];
  /** `--platform` `os/arch[/variant]`; default: this machine's. */
  platform?: string;
  signal?: AbortSignal;
}
