import {
  ANNOTATION_LAYER_ENTRIES,
  type ContentStore,
  type Descriptor,
  type ImageRecord,
  type MountManager,
} from "@strata/core";
import { settle } from "./floors.js";
import type { ImageRig } from "./image-rig.js";
import { dropCacheCount } from "./machine.js";
import { measure, type SamplingOptions, type Stats } from "./measure.js";
import type { Profiler } from "./profile.js";
import type { LayerRecord, Row, Section } from "./results.js";
import type { WorkloadSet } from "./workload.js";

/** What every phase of a run shares: where it works, how it samples, what it recorded. */
export interface RunContext {
  /** The run's scratch directory; its filesystem is the one measured. */
  scratch: string;
  store: ContentStore;
  mounts: MountManager;
  /** Image services over `store` (commit, save, load). */
  images: ImageRig;
  /** The base image's record, which every commit builds on. */
  baseImage: ImageRecord;
  set: WorkloadSet;
  seed: number;
  sampling: SamplingOptions;
  profiler?: Profiler;
  log: (line: string) => void;
  rows: Row[];
  layers: LayerRecord[];
  workloads: Map<string, { id: string; title: string; files: number; bytes: number }>;
}

/**
 * Measure `fn` (see {@link measure}); before each sample, `reset` (if any) and a flush of
 * the scratch filesystem. Page-cache drops by other processes during the measurement are
 * counted into the stats.
 */
export async function timed(
  ctx: RunContext,
  name: string,
  fn: () => Promise<unknown>,
  {
    warmup = true,
    reset,
    sampling = ctx.sampling,
  }: { warmup?: boolean; reset?: () => void; sampling?: SamplingOptions } = {},
): Promise<Stats> {
  const before = () => {
    reset?.();
    if (!sampling.quick) settle(ctx.scratch);
  };
  const drops = dropCacheCount();
  const stats = await measure({ name, fn, reset: before }, sampling, { warmup });
  const dropped = (dropCacheCount() ?? 0) - (drops ?? 0);
  return dropped > 0 ? { ...stats, dropCaches: dropped } : stats;
}

/** Record a row and print its progress line. */
export function push(ctx: RunContext, r: Row): void {
  ctx.rows.push(r);
  const ms = r.stats.mean * 1000;
  const mbps = r.bytes / r.stats.mean / 1e6;
  const ratio = r.ratio === undefined ? "" : `  ${r.ratio.toFixed(2)}× floor`;
  ctx.log(
    `  ${r.section.padEnd(12)} ${r.workload.padEnd(12)} ${r.driver.padEnd(8)} ${r.subject.padEnd(19)}` +
      ` ${ms.toFixed(ms < 10 ? 2 : 1).padStart(9)} ms ±${r.stats.rme.toFixed(1)}% (${r.stats.samples.length})` +
      ` ${mbps.toFixed(1).padStart(7)} MB/s${ratio}`,
  );
}

/** A row of the report, before it is compared with its floor. */
export function row(
  section: Section,
  workload: string,
  driver: string,
  subject: string,
  floor: boolean,
  layer: { size: number; entries: number },
  stats: Stats,
): Row {
  return {
    section,
    workload,
    driver,
    subject,
    floor,
    bytes: layer.size,
    entries: layer.entries,
    stats,
  };
}

/** `r` with its speed relative to `floor` and that ratio's margin of error. */
export function compared(r: Row, floor: Stats): Row {
  return {
    ...r,
    ratio: floor.mean / r.stats.mean,
    ratioRme: Math.sqrt(floor.rme ** 2 + r.stats.rme ** 2),
    ratioMedian: floor.median / r.stats.median,
  };
}

/** Size and entry count of a layer strata wrote (its entry-count annotation). */
export function dims(d: Descriptor): { size: number; entries: number } {
  return { size: d.size, entries: Number(d.annotations?.[ANNOTATION_LAYER_ENTRIES] ?? 0) };
}

/** A layer the run produced, for the report's list of layers. */
export function layerRecord(
  workload: string,
  driver: string,
  differ: "native" | "naive",
  d: Descriptor,
): LayerRecord {
  return { workload, driver, differ, digest: d.digest, ...dims(d) };
}
