/**
 * What `images --format` templates see: docker's `imageContext` (fields `.ID .Repository
 * .Tag .Digest .CreatedSince .CreatedAt .Size .SharedSize .UniqueSize .VirtualSize
 * .Containers`), its table header and docker's default formats.
 */
import type { ImageUsage } from "@strata/core";
import { goTimeString } from "./go-time.js";
import { createdSince } from "./human-duration.js";
import { humanSize } from "./human-size.js";
import { truncateId } from "./ids.js";
import type { ImageRow } from "./image-rows.js";
import { goStructOf } from "./struct.js";

/** docker's default `images` table. */
export const DEFAULT_IMAGE_TABLE =
  "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

/** docker's default `images --digests` table. */
export const DEFAULT_IMAGE_TABLE_WITH_DIGEST =
  "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

/** Column names of the image fields (docker's `newImageContext` header). */
export const IMAGE_HEADER: Readonly<Record<string, string>> = {
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  Tag: "TAG",
  Digest: "DIGEST",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  Size: "SIZE",
  Containers: "CONTAINERS",
  VirtualSize: "SIZE",
  SharedSize: "SHARED SIZE",
  UniqueSize: "UNIQUE SIZE",
};

/**
 * docker's `NewImageFormat`: the format `images` renders with, from `--format` (empty or
 * `table`: the default table; `raw`; `json`; or a template), `-q` and `--digests`.
 */
export function imageFormat(source: string, quiet: boolean, digests: boolean): string {
  if (source === "" || source === "table") {
    if (quiet) return "{{.ID}}";
    return digests ? DEFAULT_IMAGE_TABLE_WITH_DIGEST : DEFAULT_IMAGE_TABLE;
  }
  if (source === "raw") {
    if (quiet) return "image_id: {{.ID}}";
    const digest = digests ? "digest: {{.Digest}}\n" : "";
    return `repository: {{ .Repository }}\ntag: {{.Tag}}\n${digest}image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n`;
  }
  if (source.startsWith("table") && digests && !source.includes("{{.Digest}}")) {
    return `${source}\t{{.Digest}}`;
  }
  return source;
}

/** How image rows render. */
export interface ImageContextOptions {
  /** Truncate IDs to 12 digits (docker's `Trunc`, unless `--no-trunc`). */
  trunc: boolean;
  /** The time CreatedSince is measured from. */
  now?: Date;
}

/**
 * The template value of one `images` row (a Go struct named `*formatter.imageContext`,
 * so an unknown field fails as in docker; `{{json .}}` gives every field, keys sorted).
 * Without `usage`, SharedSize, UniqueSize and Containers are `N/A`, as docker prints them
 * when the daemon did not count them.
 */
export function imageContext(
  row: ImageRow,
  usage: Pick<ImageUsage, "sharedSize" | "containers"> | undefined,
  opts: ImageContextOptions,
): Record<string, string> {
  const { image } = row;
  return goStructOf("*formatter.imageContext", {
    Containers: usage ? String(usage.containers) : "N/A",
    CreatedAt: goTimeString(image.created),
    CreatedSince: createdSince(image.created, opts.now ?? new Date()),
    Digest: row.digest,
    ID: opts.trunc ? truncateId(image.id) : image.id,
    Repository: row.repository,
    SharedSize: usage ? humanSize(usage.sharedSize, 4) : "N/A",
    Size: humanSize(image.size),
    Tag: row.tag,
    UniqueSize: usage ? humanSize(image.size - usage.sharedSize, 4) : "N/A",
    VirtualSize: humanSize(image.size, 4),
  });
}
