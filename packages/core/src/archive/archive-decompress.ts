import { spawn } from "node:child_process";
import { pipeline } from "node:stream";
import { decompressLayer } from "../diff/layer-compression.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { findExecutable } from "../util/find-executable.js";
import { sniffCompression } from "./layer-probe.js";

/** Archive compressions `load` accepts, as docker's: gzip, zstd, bzip2 and xz. */
export type ArchiveCompression = "none" | "gzip" | "zstd" | "bzip2" | "xz";

/** The compression an archive's first bytes announce. */
export function sniffArchive(head: Uint8Array): ArchiveCompression {
  const layer = sniffCompression(head);
  if (layer !== "none") return layer;
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return "bzip2"; // "BZh"
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) return "xz";
  return "none";
}

/**
 * The archive's bytes, decompressed when they start with a gzip, zstd, bzip2 or xz header
 * (gzip in-process; the others through the `zstd`, `bzip2` and `xz` programs).
 * @throws NotSupportedError when the program a compression needs is not installed.
 */
export async function decompressArchive(
  source: AsyncIterable<Uint8Array>,
): Promise<AsyncIterable<Uint8Array>> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return (async function* () {})();
  const head = first.value;
  async function* whole(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const compression = sniffArchive(head);
  switch (compression) {
    case "none":
      return whole();
    case "gzip":
    case "zstd":
      return archiveErrors(await decompressLayer(whole(), compression));
    default: {
      const program = await findExecutable(compression);
      if (!program) {
        throw new NotSupportedError(
          `load: ${compression}-compressed archive: no ${compression} program on PATH`,
        );
      }
      return filter(program, ["-d", "-c", "-q"], whole(), compression);
    }
  }
}

/** `source` piped through `program args`; a failure of the program is a corrupt archive. */
async function* filter(
  program: string,
  args: string[],
  source: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  exited.catch(() => {});
  pipeline(source, child.stdin, () => {}); // EPIPE when the program gives up: reported by its exit
  try {
    yield* child.stdout;
    const code = await exited;
    if (code !== 0) {
      throw new InvalidArgumentError(`corrupt ${what} stream: ${stderr.trim() || `exit ${code}`}`);
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Word the layer decompressor's errors (`layer: corrupt gzip stream: …`) for an archive. */
async function* archiveErrors(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* src;
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      throw new InvalidArgumentError(err.message.replace(/^layer: /, ""), { cause: err });
    }
    throw err;
  }
}
