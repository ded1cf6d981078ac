import type { ContainerRecord } from "@strata/core";
import { createdSince, humanDuration } from "./human-duration.js";
import { ellipsis, truncateId } from "./ids.js";

/** A container as `docker ps` lists it: the record plus what only the runtime knows. */
export interface ContainerListItem {
  rec: ContainerRecord;
  /** runc says the container is frozen (`commit -p`, `pause`). */
  paused: boolean;
  /** The IMAGE column: the image as it was named, or its short ID when that name moved on. */
  image: string;
}

/** How `docker ps` shows the rows. */
export interface ContainerTableOptions {
  /** `--no-trunc`: full IDs and commands. */
  noTrunc?: boolean;
  /** The time durations are measured from. */
  now?: Date;
}

/** The STATUS column: `Created`, `Up 3 seconds (Paused)`, `Exited (0) 5 seconds ago`. */
export function containerStatus(item: ContainerListItem, now: Date = new Date()): string {
  const { state } = item.rec;
  switch (state.status) {
    case "running": {
      const since = state.startedAt ? new Date(state.startedAt) : item.rec.created;
      return `Up ${humanDuration(now.getTime() - since.getTime())}${item.paused ? " (Paused)" : ""}`;
    }
    case "exited": {
      const at = state.finishedAt ? new Date(state.finishedAt) : now;
      return `Exited (${state.exitCode ?? 0}) ${humanDuration(now.getTime() - at.getTime())} ago`;
    }
    case "dead":
      return "Dead";
    default:
      return "Created";
  }
}

/** The COMMAND column: entrypoint and cmd joined, cut to 20 columns, quoted (docker's). */
export function containerCommandCell(rec: ContainerRecord, noTrunc = false): string {
  const cmd = [...(rec.config.Entrypoint ?? []), ...(rec.config.Cmd ?? [])].join(" ");
  return JSON.stringify(noTrunc ? cmd : ellipsis(cmd, 20));
}

/** The ID column: 12 digits unless `--no-trunc`. */
export function containerIdCell(rec: ContainerRecord, noTrunc = false): string {
  return noTrunc ? rec.id : truncateId(rec.id);
}

/** The rows of `docker ps`, header first: the table {@link formatTable} lays out. */
export function containerTable(
  items: readonly ContainerListItem[],
  opts: ContainerTableOptions = {},
): string[][] {
  const now = opts.now ?? new Date();
  const rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]];
  for (const item of items) {
    rows.push([
      containerIdCell(item.rec, opts.noTrunc),
      item.image,
      containerCommandCell(item.rec, opts.noTrunc),
      createdSince(item.rec.created, now),
      containerStatus(item, now),
      "",
      item.rec.name,
    ]);
  }
  return rows;
}
