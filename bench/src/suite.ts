import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import {
  ANNOTATION_LAYER_ENTRIES,
  ContentStore,
  type Descriptor,
  MountManager,
  readTar,
} from "@strata/core";
import { changeDir, type DriverName, type DriverRig, openRig, writableDir } from "./drivers.js";
import { emptyDir, settle, sha256sum, tarCreateHash, tarExtract } from "./floors.js";
import { currentLoad, describeMachine, dropCacheCount } from "./machine.js";
import { measure, type SamplingOptions, type Stats } from "./measure.js";
import { Profiler } from "./profile.js";
import type { BenchResult, DriverStatus, LayerRecord, Row, Section } from "./results.js";
import { checkTargets } from "./targets.js";
import { generateWorkloads, materialize, type WorkloadId, type WorkloadSizes } from "./workload.js";

/** What one run measures, and where. */
export interface SuiteOptions {
  mode: "full" | "quick";
  seed: number;
  sizes: WorkloadSizes;
  drivers: readonly DriverName[];
  workloads: readonly WorkloadId[];
  sampling: SamplingOptions;
  /** Directory the run's scratch directory is made in (its filesystem is what is measured). */
  scratchParent: string;
  /** Keep the scratch directory afterwards. */
  keep: boolean;
  /** Profile each strata operation once more after measuring it, into this directory. */
  profileDir?: string;
  /** Progress lines. */
  log: (line: string) => void;
}

/** Layers of these workloads are applied into an empty snapshot (and by `tar -x`). */
const APPLIED: readonly string[] = ["base", "small-files", "large-files"];

/**
 * Run the suite: for each driver in turn, build the base image in a snapshot, play each
 * change workload onto a fresh child of it, and measure every differ on that change beside
 * `tar -c | sha256sum` of the same upper tree; then apply the base, small-files and
 * large-files layers into an empty snapshot beside `tar -x` of the same layer; finally
 * `sha256sum` of each layer's bytes. Every floor is measured right next to what it is
 * compared with, so slow drift of the machine cancels out of the ratios.
 */
export async function runSuite(opts: SuiteOptions): Promise<BenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const startLoad = currentLoad();
  const { log, sampling, seed } = opts;
  await fs.mkdir(opts.scratchParent, { recursive: true });
  const scratch = await fs.mkdtemp(path.join(opts.scratchParent, "strata-bench-"));
  const store = new ContentStore(path.join(scratch, "store"));
  const mounts = new MountManager();
  const set = generateWorkloads(seed, opts.sizes);
  const rows: Row[] = [];
  const layers: LayerRecord[] = [];
  const statuses: DriverStatus[] = [];
  const workloads = new Map<string, { id: string; title: string; files: number; bytes: number }>();
  /** The one layer per workload that every driver applies (the first naive diff's). */
  const applyLayers = new Map<string, Descriptor>();
  const profiler = opts.profileDir ? new Profiler(opts.profileDir) : undefined;

  try {
    const machine = await describeMachine(scratch);
    for (const name of opts.drivers) {
      const res = await openRig(name, path.join(scratch, name), store, mounts);
      if (!res.ok) {
        log(`${name}: skipped: ${res.reason}`);
        statuses.push({ name, available: false, reason: res.reason, notes: [] });
        continue;
      }
      statuses.push({ name, available: true, notes: res.rig.notes });
      try {
        await benchDriver(res.rig);
      } finally {
        await res.rig.snapshotter.close();
      }
    }

    const hashed = new Set<string>();
    for (const l of layers) {
      if (hashed.has(l.digest) || l.differ !== "naive") continue;
      hashed.add(l.digest);
      const stats = await timed(`sha256sum ${l.workload}`, () =>
        sha256sum(store.blobPath(l.digest)),
      );
      push(row("hash", l.workload, "-", "sha256sum", true, l, stats));
    }

    return {
      schema: 1,
      startedAt: startedAt.toISOString(),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      mode: opts.mode,
      seed,
      sizes: opts.sizes,
      sampling,
      machine,
      load: { start: startLoad, end: currentLoad() },
      drivers: statuses,
      workloads: [...workloads.values()],
      layers,
      rows,
      targets: checkTargets(rows),
    };
  } finally {
    profiler?.close();
    if (opts.keep) log(`scratch kept: ${scratch}`);
    else await fs.rm(scratch, { recursive: true, force: true });
  }

  async function benchDriver(rig: DriverRig): Promise<void> {
    const sn = rig.snapshotter;
    const naive = rig.differs.find((d) => d.kind === "naive")!.differ;
    log(`${rig.name}: base image (${set.base.title})`);
    const baseActive = await sn.prepare("base-active");
    const made = await mounts.withTempMount(baseActive, async (dir) =>
      materialize(dir, set.base, seed),
    );
    workloads.set("base", { id: "base", title: set.base.title, ...made });
    await sn.commit("base", "base-active");
    if (!applyLayers.has("base")) {
      // The base image's own layer: what a pull unpacks, applied by every driver below.
      const view = await sn.view("base-view", "base");
      const desc = await naive.diff([], view);
      layers.push(layerRecord("base", rig.name, "naive", desc));
      applyLayers.set("base", desc);
      await sn.remove("base-view");
    }

    for (const id of opts.workloads) {
      const w = set.changes.get(id)!;
      log(`${rig.name}: ${id} (${w.title})`);
      const upper = await sn.prepare(`c-${id}`, "base");
      const changed = await mounts.withTempMount(upper, async (dir) => materialize(dir, w, seed));
      workloads.set(id, { id, title: w.title, ...changed });
      const lower = await sn.view(`l-${id}`, "base");
      const section: Section = id === "ten-files" ? "proportional" : "diff";
      const subjects: Row[] = [];
      let reference: Descriptor | undefined;
      for (const d of rig.differs) {
        // The first call warms up and yields the layer; the samples write the same blob.
        const desc = await d.differ.diff(lower, upper);
        layers.push(layerRecord(id, rig.name, d.kind, desc));
        if (d.kind === "naive") reference = desc;
        const op = () => d.differ.diff(lower, upper);
        const stats = await timed(`diff ${id} ${rig.name} ${d.kind}`, op, false);
        const r = row(section, id, rig.name, d.kind, false, dims(desc), stats);
        if (profiler)
          r.profile = await profiler.profile(`${section}-${id}-${rig.name}-${d.kind}`, op);
        subjects.push(r);
      }
      // The floor reads the same upper tree: an overlay upper dir whole, else the layer's entries.
      const where = changeDir(upper);
      let list: string | undefined;
      if (!where.whole) {
        list = path.join(scratch, `entries-${rig.name}-${id}`);
        await writeEntryList(store, reference!.digest, list);
      }
      const floor = await timed(`tar -c | sha256sum ${id} ${rig.name}`, () =>
        tarCreateHash(where.dir, list),
      );
      for (const r of subjects) push(compared(r, floor));
      push(row(section, id, rig.name, "tar -c | sha256sum", true, dims(reference!), floor));
      if (APPLIED.includes(id) && !applyLayers.has(id)) applyLayers.set(id, reference!);
      await sn.remove(`l-${id}`);
      await sn.remove(`c-${id}`);
    }

    for (const [id, desc] of applyLayers) {
      log(`${rig.name}: apply ${id}`);
      const target = await sn.prepare(`a-${id}`);
      const dir = writableDir(target);
      const op = () => rig.applier.apply(desc, target);
      const stats = await timed(`apply ${id} ${rig.name}`, op, true, () => emptyDir(dir));
      const r = row("apply", id, rig.name, "apply", false, dims(desc), stats);
      if (profiler) {
        emptyDir(dir);
        r.profile = await profiler.profile(`apply-${id}-${rig.name}`, op);
        emptyDir(dir);
      }
      const tarDir = path.join(scratch, `tar-x-${rig.name}-${id}`);
      await fs.mkdir(tarDir);
      const floor = await timed(
        `tar -x ${id} ${rig.name}`,
        () => tarExtract(store.blobPath(desc.digest), tarDir),
        true,
        () => emptyDir(tarDir),
      );
      push(compared(r, floor));
      push(row("apply", id, rig.name, "tar -x", true, dims(desc), floor));
      await fs.rm(tarDir, { recursive: true, force: true });
      await sn.remove(`a-${id}`);
    }
  }

  /** Measure `fn`; before each sample, `reset` (if any) and a flush of the scratch filesystem. */
  async function timed(
    name: string,
    fn: () => Promise<unknown>,
    warmup = true,
    reset?: () => void,
  ): Promise<Stats> {
    const before = () => {
      reset?.();
      settle(scratch);
    };
    const drops = dropCacheCount();
    const stats = await measure({ name, fn, reset: before }, sampling, { warmup });
    const dropped = (dropCacheCount() ?? 0) - (drops ?? 0);
    return dropped > 0 ? { ...stats, dropCaches: dropped } : stats;
  }

  function push(r: Row): void {
    rows.push(r);
    const ms = r.stats.mean * 1000;
    const mbps = r.bytes / r.stats.mean / 1e6;
    const ratio = r.ratio === undefined ? "" : `  ${r.ratio.toFixed(2)}× floor`;
    log(
      `  ${r.section.padEnd(12)} ${r.workload.padEnd(12)} ${r.driver.padEnd(8)} ${r.subject.padEnd(19)}` +
        ` ${ms.toFixed(ms < 10 ? 2 : 1).padStart(9)} ms ±${r.stats.rme.toFixed(1)}% (${r.stats.samples.length})` +
        ` ${mbps.toFixed(1).padStart(7)} MB/s${ratio}`,
    );
  }
}

function row(
  section: Section,
  workload: string,
  driver: DriverName | "-",
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
function compared(r: Row, floor: Stats): Row {
  return {
    ...r,
    ratio: floor.mean / r.stats.mean,
    ratioRme: Math.sqrt(floor.rme ** 2 + r.stats.rme ** 2),
    ratioMedian: floor.median / r.stats.median,
  };
}

/** Size and entry count of a layer strata wrote. */
function dims(d: Descriptor): { size: number; entries: number } {
  return { size: d.size, entries: layerEntries(d) };
}

function layerRecord(
  workload: string,
  driver: DriverName,
  differ: "native" | "naive",
  d: Descriptor,
): LayerRecord {
  return { workload, driver, differ, digest: d.digest, ...dims(d) };
}

/** Entries of a layer strata wrote (its entry-count annotation). */
function layerEntries(d: Descriptor): number {
  return Number(d.annotations?.[ANNOTATION_LAYER_ENTRIES] ?? 0);
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
