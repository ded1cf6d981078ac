import { once } from "node:events";
import * as fs from "node:fs";
import { PassThrough } from "node:stream";
import { applyLayerTar } from "../diff/apply-layer-tar.js";
import type { LayerChange } from "../diff/layer-change.js";
import { walkChanges } from "../diff/walk-changes.js";
import { writeLayerTar } from "../diff/write-layer-tar.js";
import { InvalidArgumentError } from "../errors.js";
import type { ByteSink } from "../util/byte-sink.js";

/**
 * The tar changes of the tree at `source` (a file, symlink or directory, not followed),
 * its entries named `as` and `as/…`: what `cp` streams (docker's `TarWithOptions` with a
 * rebased name).
 */
async function* pathChanges(source: string, as: string): AsyncGenerator<LayerChange> {
  const st = fs.lstatSync(source);
  yield { kind: "add", path: as, sourcePath: source, stat: st };
  if (!st.isDirectory()) return;
  for await (const c of walkChanges(null, source)) yield { ...c, path: `${as}/${c.path}` };
}

/**
 * Write the tree at `source` as a tar into `sink`, its entries named `as` (a relative,
 * normalized path) and below.
 * @returns the bytes of tar written (what docker's `cp` reports as copied).
 * @throws NotFoundError-like ENOENT when `source` does not exist.
 */
export async function archivePath(source: string, as: string, sink: ByteSink): Promise<number> {
  const { size } = await writeLayerTar(pathChanges(source, as), sink);
  return size;
}

/**
 * Extract a tar stream into the directory `dest` with core's layer applier (names that
 * would leave `dest`, or go through a symlink, are refused). Owners are kept only with
 * `sameOwner` (docker's `cp -a`).
 */
export async function extractArchive(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  sameOwner = false,
): Promise<void> {
  const st = fs.statSync(dest, { throwIfNoEntry: false });
  if (!st?.isDirectory()) {
    throw new InvalidArgumentError(`extraction point is not a directory: ${dest}`);
  }
  await applyLayerTar(source, dest, { sameOwner, whiteouts: false }); // a plain archive
}

/**
 * Copy the tree at `source` into the directory `destDir` as `as`, streaming a tar between
 * the two (archive and extract run together, so nothing is staged).
 * @param onProgress told the bytes of tar streamed so far (a progress display).
 * @returns the bytes of tar streamed.
 */
export async function copyPath(
  source: string,
  destDir: string,
  as: string,
  sameOwner = false,
  onProgress?: (bytes: number) => void,
): Promise<number> {
  const pipe = new PassThrough({ highWaterMark: 1 << 20 });
  const extracting = extractArchive(pipe, destDir, sameOwner);
  extracting.catch(() => pipe.destroy());
  let streamed = 0;
  const sink: ByteSink = {
    async write(chunk) {
      // A failed extraction rejects the race, which stops the archiving too.
      if (!pipe.write(chunk)) await Promise.race([once(pipe, "drain"), extracting]);
      streamed += chunk.length;
      onProgress?.(streamed);
    },
  };
  try {
    const size = await archivePath(source, as, sink);
    pipe.end();
    await extracting;
    return size;
  } catch (err) {
    pipe.destroy();
    await extracting.catch(() => {});
    throw err;
  }
}
