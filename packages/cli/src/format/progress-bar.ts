/**
 * docker's per-layer progress lines (`e2eb06d8af82: Loading layer [====>   ]  12.3MB/40MB`),
 * as its CLI renders JSON progress messages on a terminal.
 */
import type { Writable } from "node:stream";
import { humanSize } from "./human-size.js";

/**
 * The progress part of a line, as docker's `JSONProgress.String()`: a 50-column bar when
 * the terminal is wider than 110 columns, then `current/total` (current padded to 8).
 */
export function progressText(current: number, total: number, columns = 200): string {
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) return humanSize(current, 4).padStart(8);
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar =
    columns > 110 ? `[${"=".repeat(percentage)}>${" ".repeat(Math.max(0, 50 - percentage))}] ` : "";
  const numbers =
    current > total ? "" : `${humanSize(current, 4).padStart(8)}/${humanSize(total, 4)}`;
  return bar + numbers;
}

/**
 * Prints one line per item (`<id>: <status> <progress>`), redrawing the current item's
 * line in place (at most ten times a second, and always on completion) and starting a new
 * line when the next item begins. For terminals only.
 */
export class ProgressLines {
  private currentId: string | undefined;
  private lastDraw = 0;

  constructor(
    private readonly out: Writable & { columns?: number },
    private readonly status: string,
  ) {}

  /** Report `current` of `total` bytes for item `id`. */
  update(id: string, current: number, total: number): void {
    const now = Date.now();
    const complete = current >= total;
    if (id === this.currentId && !complete && now - this.lastDraw < 100) return;
    if (id !== this.currentId && this.currentId !== undefined) this.out.write("\n");
    this.currentId = id;
    this.lastDraw = now;
    const line = `${id}: ${this.status} ${progressText(current, total, this.out.columns || 200)}`;
    this.out.write(`\r\x1b[2K${line}`);
  }

  /** End the last line. */
  finish(): void {
    if (this.currentId !== undefined) this.out.write("\n");
    this.currentId = undefined;
  }
}
