import * as fs from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** Which output stream a log entry came from. */
export type LogStream = "stdout" | "stderr";

/** One line of docker's `json-file` log: `{"log":"hi\n","stream":"stdout","time":"…"}`. */
export interface LogEntry {
  log: string;
  stream: LogStream;
  time: string;
}

/**
 * Writes a container's output in docker's `json-file` format, one JSON object per line of
 * output (a line without its newline yet waits for the rest, up to 16 KiB, as docker's
 * log driver splits long lines). Appends synchronously, so stdout and stderr entries
 * land in the order their bytes arrived.
 */
export class JsonLogWriter {
  private readonly fd: number;
  private readonly pending: Record<LogStream, string> = { stdout: "", stderr: "" };
  private readonly decoders: Record<LogStream, StringDecoder> = {
    stdout: new StringDecoder("utf8"),
    stderr: new StringDecoder("utf8"),
  };

  /** Open (create or append to) the log file at `file`. */
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "a", 0o640);
  }

  /** Record a chunk of output. */
  write(stream: LogStream, chunk: Buffer): void {
    let text = this.pending[stream] + this.decoders[stream].write(chunk);
    let nl = text.indexOf("\n");
    while (nl >= 0) {
      this.entry(stream, text.slice(0, nl + 1));
      text = text.slice(nl + 1);
      nl = text.indexOf("\n");
    }
    while (text.length >= MAX_PARTIAL) {
      this.entry(stream, text.slice(0, MAX_PARTIAL));
      text = text.slice(MAX_PARTIAL);
    }
    this.pending[stream] = text;
  }

  /** Write what is still pending (output that ended without a newline) and close the file. */
  close(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.pending[stream] + this.decoders[stream].end();
      if (rest) this.entry(stream, rest);
      this.pending[stream] = "";
    }
    fs.closeSync(this.fd);
  }

  private entry(stream: LogStream, log: string): void {
    const e: LogEntry = { log, stream, time: new Date().toISOString() };
    fs.writeSync(this.fd, `${JSON.stringify(e)}\n`);
  }
}

const MAX_PARTIAL = 16 * 1024;

/**
 * Read the complete entries of a `json-file` log starting at byte `offset`.
 * @returns the entries and the offset just after the last complete line.
 */
export function readLogEntries(file: string, offset = 0): { entries: LogEntry[]; offset: number } {
  let buf: Buffer;
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      buf = Buffer.alloc(Math.max(0, size - offset));
      let read = 0;
      while (read < buf.length) {
        const n = fs.readSync(fd, buf, read, buf.length - read, offset + read);
        if (n === 0) break;
        read += n;
      }
      buf = buf.subarray(0, read);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], offset };
    throw err;
  }
  const end = buf.lastIndexOf(0x0a);
  if (end < 0) return { entries: [], offset };
  const entries: LogEntry[] = [];
  for (const line of buf.subarray(0, end).toString("utf8").split("\n")) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as LogEntry);
    } catch {
      // a damaged line: docker's reader skips it too
    }
  }
  return { entries, offset: offset + end + 1 };
}
