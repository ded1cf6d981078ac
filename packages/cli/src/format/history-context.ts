/**
 * What `history --format` templates see: docker's `historyContext` (fields `.ID
 * .CreatedSince .CreatedAt .CreatedBy .Size .Comment`), its header and default formats.
 */
import type { ImageHistoryItem } from "@strata/core";
import { CREATED_BY_WIDTH } from "./history-rows.js";
import { createdSince, rfc3339 } from "./human-duration.js";
import { humanSize } from "./human-size.js";
import { ellipsis, truncateId } from "./ids.js";
import { goStructOf } from "./struct.js";

/** Column names of the history fields. */
export const HISTORY_HEADER: Readonly<Record<string, string>> = {
  ID: "IMAGE",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedBy: "CREATED BY",
  Size: "SIZE",
  Comment: "COMMENT",
};

/** Dates at or before this are not shown in human mode (docker's history `epoch`). */
const HISTORY_EPOCH_MS = Date.UTC(2000, 0, 1);

/** docker's `NewHistoryFormat`: the format `history` renders with. */
export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === "" || source === "table") {
    if (quiet) return "{{.ID}}";
    return human
      ? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
      : "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
  }
  return source;
}

/** How history rows render. */
export interface HistoryContextOptions {
  /** Truncate IDs and CREATED BY (unless `--no-trunc`). */
  trunc: boolean;
  /** `-H` (default true): relative times and human sizes. */
  human: boolean;
  /** The time CreatedSince is measured from. */
  now?: Date;
}

/** The template value of one `history` row (Go struct `*image.historyContext`). */
export function historyContext(
  item: ImageHistoryItem,
  opts: HistoryContextOptions,
): Record<string, string> {
  const createdAt = rfc3339(item.created);
  const wholeSeconds = Math.floor(item.created.getTime() / 1000) * 1000;
  let since = createdAt;
  if (opts.human) {
    since = wholeSeconds <= HISTORY_EPOCH_MS ? "" : createdSince(item.created, opts.now);
  }
  const createdBy = item.createdBy.replaceAll("\t", " ");
  return goStructOf("*image.historyContext", {
    Comment: item.comment,
    CreatedAt: createdAt,
    CreatedBy: opts.trunc ? ellipsis(createdBy, CREATED_BY_WIDTH) : createdBy,
    CreatedSince: since,
    ID: opts.trunc ? truncateId(item.id) : item.id,
    Size: opts.human ? humanSize(item.size) : String(item.size),
  });
}
