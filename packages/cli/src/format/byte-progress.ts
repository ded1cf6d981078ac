/**
 * A one-line byte counter for operations without per-layer lines: docker's classic
 * `Sending build context to Docker daemon  45.62MB`, and strata's `commit`.
 */
import type { Writable } from "node:stream";
import { progressText } from "./progress-bar.js";

/** Options of {@link ByteProgress}. */
export interface ByteProgressOptions {
  /** The words before the count, e.g. `"Sending build context to Docker daemon"`. */
  label: string;
  /** Draw for a terminal (redrawn in place); default `out.isTTY`. */
  tty?: boolean;
  /** Show nothing at all (`-q`). */
  quiet?: boolean;
  /**
   * Erase the line when done, and print nothing off a terminal: for progress that must not
   * change what the command prints (commit prints only the new image ID, as docker).
   */
  transient?: boolean;
}

/** Minimal interval between two redraws on a terminal, in ms. */
const REDRAW_MS = 100;

/**
 * One line counting bytes. On a terminal it is redrawn in place (`\r`, erase line) at most
 * ten times a second with the count (and a bar when a total is known and the terminal is
 * wide); {@link done} draws the final count and ends the line (or erases it when
 * `transient`). Off a terminal nothing is drawn while counting, and {@link done} prints
 * the final line once (docker drops progress off a terminal; the total is still worth a
 * line in a log). `quiet` shows nothing.
 *
 * @example `strata build` sending its context (on stdout, as docker's classic builder):
 * ```ts
 * const { ByteProgress } = await import("../../format/byte-progress.js");
 * const sending = new ByteProgress(this.context.stdout, {
 *   label: "Sending build context to Docker daemon",
 *   quiet: this.quiet,
 * });
 * let sent = 0;
 * for await (const chunk of contextTar) {
 *   sent += chunk.length;
 *   sending.update(sent);
 *   // …
 * }
 * sending.done(); // "Sending build context to Docker daemon  45.62MB\n"
 * // or, for a context read from a stream: `readAll(sending.track(stdin))`
 * ```
 */
export class ByteProgress {
  private readonly tty: boolean;
  private bytes = 0;
  private total: number | undefined;
  private lastDraw = 0;
  private drawn = false;
  private finished = false;

  constructor(
    private readonly out: Writable & { columns?: number; isTTY?: boolean },
    private readonly opts: ByteProgressOptions,
  ) {
    this.tty = opts.tty ?? out.isTTY === true;
  }

  /** The count reached: `bytes` so far, of `total` when known. */
  update(bytes: number, total?: number): void {
    this.bytes = bytes;
    this.total = total;
    if (!this.tty || this.opts.quiet || this.finished) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.draw();
  }

  /**
   * Pass `source` through, counting its bytes (`update`), and call {@link done} once it is
   * read to its end: `await readAll(progress.track(stdin))`.
   */
  async *track<T extends Uint8Array>(source: AsyncIterable<T>): AsyncGenerator<T> {
    let bytes = this.bytes;
    for await (const chunk of source) {
      bytes += chunk.length;
      this.update(bytes, this.total);
      yield chunk;
    }
    this.done();
  }

  /** Show the final count and end the line (see the class comment). Idempotent. */
  done(): void {
    if (this.finished || this.opts.quiet) return;
    this.finished = true;
    if (this.tty) {
      if (this.opts.transient) {
        if (this.drawn) this.out.write("\r\x1b[2K");
        return;
      }
      this.draw();
      this.out.write("\n");
      return;
    }
    if (!this.opts.transient) this.out.write(`${this.line()}\n`);
  }

  private line(): string {
    return `${this.opts.label} ${progressText(this.bytes, this.total ?? 0, this.out.columns || 200)}`;
  }

  private draw(): void {
    this.drawn = true;
    this.out.write(`\r\x1b[2K${this.line()}`);
  }
}
