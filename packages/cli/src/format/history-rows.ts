import type { ImageHistoryItem } from "@strata/core";
import { createdSince, rfc3339 } from "./human-duration.js";
import { humanSize } from "./human-size.js";
import { ellipsis, truncateId } from "./ids.js";

/** How `docker history` renders. */
export interface HistoryOptions {
  /** `-H/--human` (default true): relative times and human sizes. */
  human?: boolean;
  /** `--no-trunc`: full IDs and CREATED BY. */
  noTrunc?: boolean;
  /** The time CREATED is measured from. */
  now?: Date;
}

/** Dates at or before this are not shown in human mode (docker's history `epoch`). */
const HISTORY_EPOCH_MS = Date.UTC(2000, 0, 1);

/** The width docker cuts CREATED BY to. */
export const CREATED_BY_WIDTH = 45;

/** The IMAGE column value of a history item. */
export function historyId(item: ImageHistoryItem, noTrunc = false): string {
  return noTrunc ? item.id : truncateId(item.id);
}

/** The header and cells of `docker history`'s table. */
export function historyTable(
  items: readonly ImageHistoryItem[],
  opts: HistoryOptions = {},
): string[][] {
  const human = opts.human ?? true;
  const now = opts.now ?? new Date();
  const header = ["IMAGE", human ? "CREATED" : "CREATED AT", "CREATED BY", "SIZE", "COMMENT"];
  const body = items.map((h) => {
    let created: string;
    if (!human) created = rfc3339(h.created);
    else
      created =
        Math.floor(h.created.getTime() / 1000) * 1000 <= HISTORY_EPOCH_MS
          ? ""
          : createdSince(h.created, now);
    const createdBy = h.createdBy.replaceAll("\t", " ");
    return [
      historyId(h, opts.noTrunc),
      created,
      opts.noTrunc ? createdBy : ellipsis(createdBy, CREATED_BY_WIDTH),
      human ? humanSize(h.size) : String(h.size),
      h.comment,
    ];
  });
  return [header, ...body];
}
