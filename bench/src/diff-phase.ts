import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { type ContentStore, type Descriptor, readTar } from "@strata/core";
import { changeDir, type DriverRig } from "./drivers.js";
import { tarCreateHash } from "./floors.js";
import type { Row, Section } from "./results.js";
import { compared, dims, layerRecord, push, type RunContext, row, timed } from "./run-context.js";
import { materialize, type WorkloadId } from "./workload.js";

/**
 * Measure diff on `rig` (whose committed snapshot `base` holds the base image): each
 * workload is played onto a fresh child of the base, then every differ the driver has
 * writes that change's layer into the content store, beside GNU `tar -c | sha256sum` of the
 * same upper tree. The `ten-files` workload goes to the proportionality section.
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
    const section: Section = id === "ten-files" ? "proportional" : "diff";
    const subjects: Row[] = [];
    let reference: Descriptor | undefined;
    for (const d of rig.differs) {
      // The first call warms up and yields the layer; the samples write the same blob.
      const desc = await d.differ.diff(lower, upper);
      ctx.layers.push(layerRecord(id, rig.name, d.kind, desc));
      if (d.kind === "naive") reference = desc;
      const op = () => d.differ.diff(lower, upper);
      const stats = await timed(ctx, `diff ${id} ${rig.name} ${d.kind}`, op, { warmup: false });
      const r = row(section, id, rig.name, d.kind, false, dims(desc), stats);
      if (ctx.profiler) {
        r.profile = await ctx.profiler.profile(`${section}-${id}-${rig.name}-${d.kind}`, op);
      }
      subjects.push(r);
    }
    // The floor reads the same upper tree: an overlay upper dir whole, else the layer's entries.
    const where = changeDir(upper);
    let list: string | undefined;
    if (!where.whole) {
      list = path.join(ctx.scratch, `entries-${rig.name}-${id}`);
      await writeEntryList(ctx.store, reference!.digest, list);
    }
    const floor = await timed(ctx, `tar -c | sha256sum ${id} ${rig.name}`, () =>
      tarCreateHash(where.dir, list),
    );
    for (const r of subjects) push(ctx, compared(r, floor));
    push(ctx, row(section, id, rig.name, "tar -c | sha256sum", true, dims(reference!), floor));
    // Nothing is removed until the run ends (see applyPhase: deletions slow later creations).
  }
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
