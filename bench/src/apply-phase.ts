import * as fs from "node:fs";
import * as path from "node:path";
import type { Descriptor, Mount } from "@strata/core";
import { type DriverRig, writableDir } from "./drivers.js";
import { emptyDir, tarExtract } from "./floors.js";
import type { SamplingOptions } from "./measure.js";
import { compared, dims, push, type RunContext, row, timed } from "./run-context.js";

/** At most this many fresh targets per measurement; past it, the last one is emptied and reused. */
const MAX_TARGETS = 40;
/** Layers with fewer entries than this reuse one target, emptied between samples. */
const FRESH_TARGETS_FROM = 1000;

/**
 * Measure apply on `rig`: each layer of `layers` unpacked into an empty snapshot by the
 * driver's differ, beside GNU `tar -x` of the same blob into an empty directory.
 *
 * For a layer of many entries every sample gets a fresh target (snapshots prepared
 * beforehand, directories made between samples), and nothing is deleted: the run's scratch
 * directory goes as a whole at the end. On ext4 without a journal (this bench's reference
 * machine) the kernel's inode allocator skips inodes deleted in about the last 30 s one by
 * one (`recently_deleted`, seen with `perf`), so creating thousands of files right after
 * deleting thousands costs seconds of kernel time; emptying a target between samples would
 * bill one sample's cleanup to the next. A layer of few entries (large files) reuses one target, emptied
 * between samples, so the run's disk use stays bounded. Subject and floor are treated alike.
 */
export async function applyPhase(
  ctx: RunContext,
  rig: DriverRig,
  layers: ReadonlyMap<string, Descriptor>,
): Promise<void> {
  const sn = rig.snapshotter;
  let keys = 0;
  for (const [id, desc] of layers) {
    ctx.log(`${rig.name}: apply ${id}`);
    const max = dims(desc).entries >= FRESH_TARGETS_FROM ? MAX_TARGETS : 1;
    const targets: Mount[][] = [];
    const prepare = async () => {
      targets.push(await sn.prepare(`a-${id}-${keys++}`));
    };
    await prepare();
    let current = targets[0]!;
    const started = performance.now();
    await rig.applier.apply(desc, current); // the warm-up, which sizes the pool
    const pool = Math.min(max, poolSize(ctx.sampling, (performance.now() - started) / 1000));
    while (targets.length < pool) await prepare();
    // The profiled run gets a fresh target of its own, not one emptied just before.
    const spare = ctx.profiler && max > 1 ? targets.pop() : undefined;
    let next = 1;
    const nextTarget = () => {
      if (next < targets.length) current = targets[next++]!;
      else emptyDir(writableDir(current));
    };
    const op = () => rig.applier.apply(desc, current);
    const stats = await timed(ctx, `apply ${id} ${rig.name}`, op, {
      warmup: false,
      reset: nextTarget,
    });
    const r = row("apply", id, rig.name, "apply", false, dims(desc), stats);
    if (ctx.profiler) {
      if (spare) current = spare;
      else nextTarget();
      r.profile = await ctx.profiler.profile(`apply-${id}-${rig.name}`, op);
    }

    let dir = "";
    let made = 0;
    const nextDir = () => {
      if (made >= max) return emptyDir(dir);
      dir = path.join(ctx.scratch, `tar-x-${rig.name}-${id}-${made++}`);
      fs.mkdirSync(dir);
    };
    const blob = ctx.store.blobPath(desc.digest);
    const floor = await timed(ctx, `tar -x ${id} ${rig.name}`, () => tarExtract(blob, dir), {
      reset: nextDir,
    });
    push(ctx, compared(r, floor));
    push(ctx, row("apply", id, rig.name, "tar -x", true, dims(desc), floor));
  }
}

/** Targets one measurement needs: its samples, as many as `maxTime` allows, and spares. */
function poolSize(sampling: SamplingOptions, warmSeconds: number): number {
  const byTime = Math.ceil(sampling.maxTime / Math.max(warmSeconds, 1e-3));
  return Math.min(MAX_TARGETS, Math.max(sampling.minSamples, byTime) + 3);
}
