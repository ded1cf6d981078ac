/**
 * What `system df` prints: docker's `DiskUsageContext`, a summary row per kind of object
 * (`.Type .TotalCount .Active .Size .Reclaimable`) or, with `-v`, one table per kind.
 */
import type { DiskUsageReport } from "@strata/core";
import { humanSize } from "./human-size.js";
import { goStructOf } from "./struct.js";

/** docker's default `system df` table. */
export const DEFAULT_DISK_USAGE_TABLE =
  "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

/** Column names of the summary fields. */
export const DISK_USAGE_HEADER: Readonly<Record<string, string>> = {
  Type: "TYPE",
  TotalCount: "TOTAL",
  Active: "ACTIVE",
  Size: "SIZE",
  Reclaimable: "RECLAIMABLE",
};

/** docker's `-v` tables for images, containers, volumes and build cache. */
export const VERBOSE_TABLES = {
  images:
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
  containers:
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
  volumes: "table {{.Name}}\t{{.Links}}\t{{.Size}}",
  buildCache:
    "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
} as const;

/** Column names of the `-v` volumes table (strata has no volumes: it is always empty). */
export const VOLUME_HEADER = { Name: "VOLUME NAME", Links: "LINKS", Size: "SIZE" } as const;

/** Column names of the `-v` build cache table (strata has no build cache: always empty). */
export const BUILD_CACHE_HEADER = {
  ID: "CACHE ID",
  CacheType: "CACHE TYPE",
  Size: "SIZE",
  CreatedSince: "CREATED",
  LastUsedSince: "LAST USED",
  UsageCount: "USAGE",
  Shared: "SHARED",
} as const;

/** `1.2MB (50%)` as docker words a reclaimable amount. */
function reclaimable(bytes: number, total: number): string {
  const h = humanSize(bytes, 4);
  return total > 0 ? `${h} (${Math.trunc((bytes * 100) / total)}%)` : h;
}

function summary(
  type: string,
  total: number,
  active: number,
  size: number,
  free: string,
): Record<string, string> {
  return goStructOf(`*formatter.diskUsage${type.replace(/ /g, "")}Context`, {
    Active: String(active),
    Reclaimable: free,
    Size: humanSize(size, 4),
    TotalCount: String(total),
    Type: type,
  });
}

/** The four summary rows of `system df`: images, containers, local volumes, build cache. */
export function diskUsageRows(du: DiskUsageReport): Record<string, string>[] {
  return [
    summary(
      "Images",
      du.images.length,
      du.activeImages,
      du.layersSize,
      reclaimable(du.imagesReclaimable, du.layersSize),
    ),
    summary(
      "Containers",
      du.containers.length,
      du.activeContainers,
      du.containersSize,
      reclaimable(du.containersReclaimable, du.containersSize),
    ),
    summary("Local Volumes", 0, 0, 0, reclaimable(0, 0)),
    summary("Build Cache", 0, 0, du.buildCacheSize, humanSize(0, 4)),
  ];
}
