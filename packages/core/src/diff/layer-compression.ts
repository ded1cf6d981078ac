import { spawn } from "node:child_process";
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import type { LayerCompression } from "../image/media-types.js";
import { findExecutable } from "../util/find-executable.js";

/**
 * The uncompressed bytes of a layer blob: `none` passes `source` through, `gzip` inflates
 * with zlib, `zstd` runs the `zstd` binary (Node 20 has no zstd). A corrupt compressed
 * stream surfaces while iterating, as an InvalidArgumentError.
 * @throws NotSupportedError for zstd when no `zstd` binary is on `$PATH`.
 */
export async function decompressLayer(
  source: AsyncIterable<Uint8Array>,
  compression: LayerCompression,
): Promise<AsyncIterable<Uint8Array>> {
  switch (compression) {
    case "none":
      return source;
    case "gzip":
      return corruptAsInvalid(
        pipeline(source, createGunzip(), () => {}),
        "gzip",
      );
    case "zstd": {
      const zstd = await findExecutable("zstd");
      if (!zstd) throw new NotSupportedError("layer compression zstd: no zstd binary on PATH");
      return corruptAsInvalid(runZstd(zstd, source), "zstd");
    }
  }
}

async function* runZstd(
  zstd: string,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const child = spawn(zstd, ["-d", "-c", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  exited.catch(() => {});
  const fed = new Promise<void>((resolve, reject) => {
    pipeline(source, child.stdin, (err) =>
      err && (err as NodeJS.ErrnoException).code !== "EPIPE" ? reject(err) : resolve(),
    );
  });
  fed.catch(() => {});
  try {
    yield* child.stdout;
    const code = await exited;
    await fed;
    if (code !== 0) throw new ZstdError(`zstd -d exited with ${code}: ${stderr.trim()}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Report decompression failures (zlib's `Z_*` errors, zstd's exit) as a bad layer. */
async function* corruptAsInvalid(
  src: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  try {
    yield* src;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code.startsWith("Z_") || err instanceof ZstdError) {
      throw new InvalidArgumentError(`layer: corrupt ${what} stream: ${(err as Error).message}`, {
        cause: err,
      });
    }
    throw err;
  }
}

/** zstd exited non-zero. */
class ZstdError extends Error {}
