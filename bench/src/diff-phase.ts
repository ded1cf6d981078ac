import { createReadStream, existsSync, linkSync, renameSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { type ContentStore, type Descriptor, listChanges, readTar } from "@strata/core";
import { changeDir, type DriverRig } from "./drivers.js";
import { findTree, tarCreateHash } from "./floors.js";
import type { Row, Section } from "./results.js";
import { compared, dims, layerRecord, push, type RunContext, row, timed } from "./run-context.js";
import { materialize, type WorkloadId } from "./workload.js";

/** The workloads a driver's naive fallback runs on in a quick run (vfs has only that one). */
const QUICK_NAIVE = ["small-files"];

/**
 * Measure diff and commit on `rig` (whose committed snapshot `base` holds the base image):
 * each workload is played onto a fresh child of the base; then, for every differ the
 * driver has,
 *
 * - **diff**: the change list `strata diff` prints (the differ's `changes`, each path
 *   looked up in the lower tree to tell `A` from `C`), beside `find` over the tree the
 *   differ has to walk (the upper directory where the driver has one, else the whole tree);
 * - **commit**: what `strata commit` does ({@link ImageRig.commit}: the layer written into
 *   the content store, then the image record), beside GNU `tar -c | sha256sum` of the same
 *   upper tree.
 *
 * The `ten-files` workload goes to the proportionality section instead: the layer
 * written, in milliseconds.
 */
export async function diffPhase(
  ctx: RunContext,
  rig: DriverRig,
  workloads: readonly WorkloadId[],
): Promise<void> {
  const sn = rig.snapshotter;
  for (const id of workloads) {
    const w = ctx.set.changes.get(id)!;
    ctx.log(`${rig.name}: ${id} (${w.title})`);
    const upper = await sn.prepare(`c-${id}`, "base");
    const changed = await ctx.mounts.withTempMount(upper, async (dir) =>
      materialize(dir, w, ctx.seed),
    );
    ctx.workloads.set(id, { id, title: w.title, ...changed });
    const lower = await sn.view(`l-${id}`, "base");
    const proportional = id === "ten-files";
    const commits: Row[] = [];
    const lists: Row[] = [];
    let reference: Descriptor | undefined;
    for (const d of rig.differs) {
      // Quick runs check that every path works, not how fast: a driver's naive fallback
      // (mounting both trees) runs on one workload there.
      const only =
        d.only ?? (ctx.sampling.quick && d.kind === "naive" && reference ? QUICK_NAIVE : undefined);
      if (only && !only.includes(id) && reference) continue;
      const label = `${id} ${rig.name} ${d.kind}`;
      if (proportional) {
        // The first call warms up and yields the layer; the samples write the same blob.
        const desc = await d.differ.diff(lower, upper);
        ctx.layers.push(layerRecord(id, rig.name, d.kind, desc));
        if (d.kind === "naive" || !reference) reference = desc;
        const op = () => d.differ.diff(lower, upper);
        const stats = await timed(ctx, `diff ${label}`, op, { warmup: false });
        const r = row("proportional", id, rig.name, d.kind, false, dims(desc), stats);
        if (ctx.profiler) r.profile = await ctx.profiler.profile(`proportional-${label}`, op);
        commits.push(r);
        continue;
      }
      const stored = await storedBlobs(ctx.store);
      const first = await ctx.images.commit(d.differ, lower, upper, ctx.baseImage);
      const desc = first.layer;
      ctx.layers.push(layerRecord(id, rig.name, d.kind, desc));
      if (d.kind === "naive" || !reference) reference = desc;
      const commit = () => ctx.images.commit(d.differ, lower, upper, ctx.baseImage);
      // Each sample writes the layer into a store without it, as a commit of new changes
      // does: the previous sample's blob is deleted before it, untimed (then flushed with
      // the rest by `timed`), unless the run needs that blob (an apply layer).
      // benchmark.js resets after the last sample too: a second name keeps the first blob
      // for the phases after this one, and takes its place again if it is gone.
      const blob = ctx.store.blobPath(desc.digest);
      const keep = path.join(ctx.store.dir, `bench-keep-${path.basename(blob)}`);
      const reset = stored.has(desc.digest) ? undefined : () => rmSync(blob, { force: true });
      if (reset) linkSync(blob, keep);
      const stats = await timed(ctx, `commit ${label}`, commit, {
        warmup: false,
        ...(reset ? { reset } : {}),
      });
      if (reset) {
        if (existsSync(blob)) rmSync(keep);
        else renameSync(keep, blob);
      }
      const r = row("commit", id, rig.name, d.kind, false, dims(desc), stats);
      if (ctx.profiler) r.profile = await ctx.profiler.profile(`commit-${label}`, commit);
      commits.push(r);

      if (d.only) continue;
      let listed = 0;
      const list = async () => {
        listed = (await listChanges(d.differ, ctx.mounts, lower, upper)).length;
      };
      if (!ctx.sampling.quick) await list(); // the warm-up
      const listStats = await timed(ctx, `diff ${label}`, list, { warmup: false });
      lists.push(
        row("diff", id, rig.name, d.kind, false, { size: desc.size, entries: listed }, listStats),
      );
    }
    // The floors read the same upper tree: an upper dir or branch whole, else the layer's entries.
    const where = changeDir(upper);
    let list: string | undefined;
    if (!where.whole) {
      list = path.join(ctx.scratch, `entries-${rig.name}-${id}`);
      await writeEntryList(ctx.store, reference!.digest, list);
    }
    if (!proportional) {
      const walk = await timed(ctx, `find ${id} ${rig.name}`, () => findTree(where.dir));
      for (const r of lists) push(ctx, compared(r, walk));
      push(ctx, row("diff", id, rig.name, "find", true, dims(reference!), walk));
    }
    const floor = await timed(ctx, `tar -c | sha256sum ${id} ${rig.name}`, () =>
      tarCreateHash(where.dir, list),
    );
    for (const r of commits) push(ctx, compared(r, floor));
    const section: Section = proportional ? "proportional" : "commit";
    push(ctx, row(section, id, rig.name, "tar -c | sha256sum", true, dims(reference!), floor));
    // Nothing is removed until the run ends (see applyPhase: deletions slow later creations).
  }
}

/** The digests of the blobs in the content store now. */
async function storedBlobs(content: ContentStore): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const b of content.list()) out.add(b.digest);
  return out;
}

/**
 * Write the names of the layer's entries, whiteouts left out, NUL-terminated: the list
 * GNU tar reads to archive exactly what the layer holds from a tree that holds more.
 */
async function writeEntryList(store: ContentStore, digest: string, file: string): Promise<void> {
  const names: string[] = [];
  for await (const e of readTar(createReadStream(store.blobPath(digest)))) {
    const name = e.header.name.replace(/\/+$/, "");
    if (!path.posix.basename(name).startsWith(".wh.")) names.push(name);
  }
  await fs.writeFile(file, names.map((n) => `${n}\0`).join(""));
}
