/**
 * What `ps --format` (and `system df -v`) templates see: docker's `ContainerContext`
 * (fields `.ID .Names .Image .Command .CreatedAt .RunningFor .Ports .State .Status .Size
 * .Labels .Mounts .LocalVolumes .Networks`, method `.Label "key"`), its header and
 * docker's default formats.
 */
import {
  type ContainerListItem,
  containerCommandCell,
  containerIdCell,
  containerStatus,
} from "./container-rows.js";
import { goTimeString } from "./go-time.js";
import { createdSince } from "./human-duration.js";
import { humanSize } from "./human-size.js";
import { ellipsis } from "./ids.js";
import { goStructOf } from "./struct.js";

/** docker's default `ps` table. */
export const DEFAULT_CONTAINER_TABLE =
  "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/** Column names of the container fields (docker's `NewContainerContext` header). */
export const CONTAINER_HEADER: Readonly<Record<string, string>> = {
  ID: "CONTAINER ID",
  Names: "NAMES",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Size: "SIZE",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  LocalVolumes: "LOCAL VOLUMES",
  Networks: "NETWORKS",
  Platform: "PLATFORM",
};

/** docker's `NewContainerFormat`: the format `ps` renders with. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === "" || source === "table") {
    if (quiet) return "{{.ID}}";
    return size ? `${DEFAULT_CONTAINER_TABLE}\t{{.Size}}` : DEFAULT_CONTAINER_TABLE;
  }
  return source;
}

/** How container rows render. */
export interface ContainerContextOptions {
  /** Truncate IDs, commands and mount names (unless `--no-trunc`). */
  trunc: boolean;
  /** Bytes in the writable layer (`-s`, `system df -v`); the Size field is `0B` without. */
  sizeRw?: number;
  /** Size of the image, for docker's `(virtual …)` part of Size. */
  virtualSize?: number;
  /** The time durations are measured from. */
  now?: Date;
}

/** The template value of one container row (Go struct `*formatter.ContainerContext`). */
export function containerContext(
  item: ContainerListItem,
  opts: ContainerContextOptions,
): Record<string, unknown> {
  const { rec } = item;
  const now = opts.now ?? new Date();
  const labels = rec.config.Labels ?? {};
  let size = humanSize(opts.sizeRw ?? 0);
  if (opts.virtualSize !== undefined && opts.virtualSize > 0) {
    size = `${size} (virtual ${humanSize((opts.sizeRw ?? 0) + opts.virtualSize)})`;
  }
  const mounts = rec.hostConfig.binds.map((b) => {
    const source = b.split(":")[0] ?? b;
    return opts.trunc ? ellipsis(source, 15) : source;
  });
  const state = item.paused ? "paused" : rec.state.status;
  return goStructOf("*formatter.ContainerContext", {
    Command: containerCommandCell(rec, !opts.trunc),
    CreatedAt: goTimeString(rec.created),
    ID: containerIdCell(rec, !opts.trunc),
    Image: item.image,
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(","),
    LocalVolumes: "0",
    Mounts: mounts.join(","),
    Names: rec.name,
    Networks: rec.hostConfig.networkMode,
    Ports: "",
    RunningFor: createdSince(rec.created, now),
    Size: size,
    State: state,
    Status: containerStatus(item, now),
    /** `{{.Label "key"}}`: one label's value. */
    Label: (name: unknown) => labels[String(name)] ?? "",
  });
}
