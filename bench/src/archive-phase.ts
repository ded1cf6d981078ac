import { createReadStream, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ContentStore, type Descriptor } from "@strata/core";
import { sha256sum, tarCreateFile } from "./floors.js";
import { ImageRig } from "./image-rig.js";
import { compared, push, type RunContext, row, timed } from "./run-context.js";

/**
 * Measure `save` and `load` (issue 6) of one image made of `layers` (already in the
 * content store): save writes docker 25+'s archive into a file, beside GNU `tar -cf FILE`
 * of the same blobs; load reads that archive into a fresh store (every blob verified,
 * every layer written), beside `sha256sum` of the archive's bytes, since load must hash
 * them all. Services are strata's own (`ImageArchiver`), wired from the public API.
 */
export async function archivePhase(ctx: RunContext, layers: readonly Descriptor[]): Promise<void> {
  const image = await ctx.images.addImage(layers, "bench/archive:v1");
  const entries = await ctx.images.archiver.resolve(["bench/archive:v1"]);
  const dir = path.join(ctx.scratch, "archive");
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, "saved.tar");
  const save = async () => {
    const fh = await fs.open(file, "w");
    try {
      await ctx.images.archiver.save(entries, {
        write: async (chunk) => {
          let off = 0;
          while (off < chunk.length) {
            off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          }
        },
      });
    } finally {
      await fh.close();
    }
  };
  ctx.log(`save and load: ${layers.length} layers`);
  await save();
  const bytes = (await fs.stat(file)).size;
  const blobs = [image.id, ...layers.map((l) => l.digest)].map((d) => ctx.store.blobPath(d));
  const dims = { size: bytes, entries: blobs.length };

  const saveStats = await timed(ctx, "save", save, { warmup: false });
  const tarFile = path.join(dir, "tar-cf.tar");
  const tarStats = await timed(ctx, "tar -cf", () => tarCreateFile(tarFile, blobs));
  await fs.rm(tarFile, { force: true });
  push(ctx, compared(row("archive", "save", "-", "strata save", false, dims, saveStats), tarStats));
  push(ctx, row("archive", "save", "-", "tar -cf FILE", true, dims, tarStats));

  let n = 0;
  let root = "";
  const nextRoot = () => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = path.join(dir, `load-${n++}`);
  };
  const load = async () => {
    const rig = new ImageRig(root, new ContentStore(root), ctx.mounts);
    try {
      await rig.archiver.load(createReadStream(file));
    } finally {
      rig.close();
    }
  };
  // A load takes about a second, so the default sampling stops at three, and one sample
  // slowed by the disk (freeing the previous store, another tenant) swings the mean by a
  // third: five samples, at least, outside quick runs.
  const sampling = ctx.sampling.quick
    ? ctx.sampling
    : { ...ctx.sampling, minSamples: Math.max(ctx.sampling.minSamples, 5) };
  const loadStats = await timed(ctx, "load", load, { reset: nextRoot, sampling });
  const hashStats = await timed(ctx, "sha256sum archive", () => sha256sum(file), { sampling });
  push(
    ctx,
    compared(row("archive", "load", "-", "strata load", false, dims, loadStats), hashStats),
  );
  push(ctx, row("archive", "load", "-", "sha256sum FILE", true, dims, hashStats));
}
