/**
 * docker's rendering of a pull's or push's progress messages (its CLI's
 * `DisplayJSONMessagesStream`): on a terminal, one line per layer id, redrawn in place
 * with a bar (`a3ed95caeb02: Downloading [=====>     ]  1.2MB/3.4MB`); elsewhere, plain
 * lines, with the byte-count messages left out (docker disables the bar off a terminal).
 */
import type { Writable } from "node:stream";
import { progressText } from "./progress-bar.js";

/** One message: docker's `JSONMessage` (id, status, progress). */
export interface BoardEvent {
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

/** Minimal redraw interval of one id's byte-count line on a terminal, in ms. */
const REDRAW_MS = 100;

/** Renders {@link BoardEvent}s as docker's CLI does. */
export class ProgressBoard {
  /** Line index of each id since the last message without one. */
  private ids = new Map<string, number>();
  private lastDraw = new Map<string, number>();

  /**
   * @param out where to write.
   * @param tty render for a terminal (cursor movement and bars) or as plain lines.
   */
  constructor(
    private readonly out: Writable & { columns?: number },
    private readonly tty: boolean,
  ) {}

  /** Show one message. */
  write(e: BoardEvent): void {
    const hasBytes = (e.current ?? 0) > 0 || (e.total ?? 0) > 0;
    if (!this.tty) {
      if (hasBytes) return;
      this.out.write(e.id ? `${e.id}: ${e.status}\n` : `${e.status}\n`);
      return;
    }
    if (!e.id) {
      // A line of its own ends the block of layer lines: later ids start a new block.
      this.ids.clear();
      this.out.write(`${e.status}\n`);
      return;
    }
    if (hasBytes && e.current !== e.total) {
      const now = Date.now();
      if (now - (this.lastDraw.get(e.id) ?? 0) < REDRAW_MS) return;
      this.lastDraw.set(e.id, now);
    }
    let line = this.ids.get(e.id);
    if (line === undefined) {
      line = this.ids.size;
      this.ids.set(e.id, line);
      this.out.write("\n");
    }
    const diff = this.ids.size - line;
    const progress = hasBytes
      ? ` ${progressText(e.current ?? 0, e.total ?? 0, this.out.columns ?? 80)}`
      : "";
    this.out.write(`\x1b[${diff}A\x1b[2K\r${e.id}: ${e.status}${progress}\r\x1b[${diff}B`);
  }
}
