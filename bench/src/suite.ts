import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ContentStore, type Descriptor, MountManager, NaiveDiffer } from "@strata/core";
import { applyPhase } from "./apply-phase.js";
import { archivePhase } from "./archive-phase.js";
import { cliPhase } from "./cli-phase.js";
import { diffPhase } from "./diff-phase.js";
import { type DriverName, openRig } from "./drivers.js";
import { sha256sum } from "./floors.js";
import { ImageRig } from "./image-rig.js";
import { currentLoad, describeMachine } from "./machine.js";
import { type SamplingOptions, statsOf } from "./measure.js";
import { MOUNTED_FULL, MOUNTED_QUICK, mountedPhase } from "./mounted-phase.js";
import { Profiler } from "./profile.js";
import { runRegistryBench } from "./registry-bench.js";
import type { BenchResult, DriverStatus, Section, TargetCheck } from "./results.js";
import { compared, layerRecord, push, type RunContext, row, timed } from "./run-context.js";
import { checkTargets } from "./targets.js";
import { UNION_FILESYSTEMS, type UnionFs, unionUnavailable } from "./unions.js";
import {
  generateWorkloads,
  materialize,
  type Workload,
  type WorkloadId,
  type WorkloadSizes,
} from "./workload.js";

/** The parts of the suite beyond diff, commit and apply. */
export const EXTRAS = ["cli", "mounted", "archive", "registry"] as const;
/** One of {@link EXTRAS}. */
export type Extra = (typeof EXTRAS)[number];

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
  /**
   * Return before the scratch directory is gone: it is renamed aside and removed by a
   * detached `rm -rf` (a full run leaves hundreds of thousands of files). The next run
   * finishes that removal before it measures anything.
   */
  removeInBackground?: boolean;
  /**
   * Which parts beyond diff, commit and apply run: `cli` (strata commit and diff as
   * processes), `mounted` (union filesystems), `archive` (save, load), `registry` (pull,
   * push). Default all.
   */
  extras?: readonly Extra[];
  /** Profile each strata operation once more after measuring it, into this directory. */
  profileDir?: string;
  /** Progress lines. */
  log: (line: string) => void;
}

/**
 * Run the suite. First the layers every driver applies are written once from plain
 * directories (the base image, `small-files` and `large-files` on an empty tree). Then, for
 * each driver in turn: the base image is written into a snapshot and committed; the
 * layers are applied into empty snapshots beside `tar -x` ({@link applyPhase}); each change
 * workload is played onto a fresh child of the base and diffed by every differ beside
 * `tar -c | sha256sum` ({@link diffPhase}). Last, `sha256sum` of each layer's bytes. Every
 * floor is measured right after what it is compared with, so slow drift of the machine
 * cancels out of the ratios.
 */
export async function runSuite(opts: SuiteOptions): Promise<BenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const startLoad = currentLoad();
  await fs.mkdir(opts.scratchParent, { recursive: true });
  await removeTrash(opts.scratchParent, opts.log, opts.mode === "full");
  const scratch = await fs.mkdtemp(path.join(opts.scratchParent, "strata-bench-"));
  const storeRoot = path.join(scratch, "store");
  const store = new ContentStore(storeRoot);
  const mounts = new MountManager();
  const images = new ImageRig(storeRoot, store, mounts);
  const extras = opts.extras ?? EXTRAS;
  const skipped: BenchResult["skipped"] = [];
  const moreTargets: TargetCheck[] = [];
  const ctx: RunContext = {
    scratch,
    store,
    mounts,
    images,
    baseImage: undefined as never,
    set: generateWorkloads(opts.seed, opts.sizes),
    seed: opts.seed,
    sampling: opts.sampling,
    log: opts.log,
    rows: [],
    layers: [],
    workloads: new Map(),
  };
  if (opts.profileDir) ctx.profiler = new Profiler(opts.profileDir);
  const statuses: DriverStatus[] = [];

  try {
    const machine = await describeMachine(scratch);
    const applied = await writeAppliedLayers(ctx, opts.workloads);
    ctx.baseImage = await images.addImage([applied.get("base")!], "bench/base:latest");
    for (const name of opts.drivers) {
      const res = await openRig(name, path.join(scratch, name), ctx.store, ctx.mounts);
      if (!res.ok) {
        ctx.log(`${name}: skipped: ${res.reason}`);
        statuses.push({ name, available: false, reason: res.reason, notes: [] });
        skipped.push({ section: "diff", what: name, reason: res.reason });
        continue;
      }
      statuses.push({ name, available: true, notes: res.rig.notes });
      const rig = res.rig;
      try {
        ctx.log(`${rig.name}: base image (${ctx.set.base.title})`);
        const active = await rig.snapshotter.prepare("base-active");
        await ctx.mounts.withTempMount(active, async (dir) =>
          materialize(dir, ctx.set.base, ctx.seed),
        );
        await rig.snapshotter.commit("base", "base-active");
        await applyPhase(ctx, rig, applied);
        await diffPhase(ctx, rig, opts.workloads);
      } finally {
        await rig.snapshotter.close();
      }
    }

    const available = statuses.filter((d) => d.available).map((d) => d.name);
    const skip = (section: Section, what: string, reason: string) => {
      ctx.log(`${section}: ${what} skipped: ${reason}`);
      skipped.push({ section, what, reason });
    };

    if (extras.includes("cli")) await cliPhase(ctx, available);

    if (extras.includes("mounted")) {
      const aufs = statuses.find((d) => d.name === "aufs");
      const aufsReason = !aufs
        ? "the aufs driver was not selected (--drivers)"
        : aufs.available
          ? undefined
          : aufs.reason;
      const unions: UnionFs[] = [];
      for (const kind of UNION_FILESYSTEMS) {
        const why = unionUnavailable(kind, aufsReason);
        if (why) skip("mount", kind, why);
        else unions.push(kind);
      }
      if (unions.length > 0) {
        const large = path.join(scratch, "layers", "large-files");
        if (!applied.has("large-files")) {
          await fs.mkdir(large, { recursive: true });
          materialize(large, ctx.set.changes.get("large-files")!, ctx.seed);
        }
        await mountedPhase(
          ctx,
          unions,
          { base: path.join(scratch, "layers", "base"), large },
          opts.mode === "quick" ? MOUNTED_QUICK : MOUNTED_FULL,
          opts.mode === "quick" ? 2 : Math.min(3, opts.sampling.minSamples),
        );
      }
    }

    if (extras.includes("archive")) {
      const large = applied.get("large-files");
      await archivePhase(ctx, large ? [applied.get("base")!, large] : [applied.get("base")!]);
    }

    if (extras.includes("registry")) {
      const why = missingTools(["docker-registry", "skopeo", "pigz"]);
      if (why) skip("registry", "pull and push", why);
      else {
        const reg = await runRegistryBench({
          megabytes: opts.mode === "quick" ? 4 : 150,
          samples: 2,
          scratchParent: scratch,
          log: (l) => ctx.log(`registry: ${l}`),
        });
        const dims = { size: reg.layerBytes, entries: 1 };
        for (const x of reg.rows) {
          const op = x.name.startsWith("pull") ? "pull" : "push";
          const floor = statsOf(x.floorSeconds);
          push(
            ctx,
            compared(row("registry", op, "-", x.name, false, dims, statsOf(x.seconds)), floor),
          );
          push(ctx, row("registry", op, "-", x.floorName, true, dims, floor));
        }
        for (const t of reg.targets) {
          moreTargets.push({ issue: 5, id: `registry:${t.description}`, ...t });
        }
      }
    }

    const hashed = new Set<string>();
    for (const l of ctx.layers) {
      if (hashed.has(l.digest) || l.differ !== "naive") continue;
      hashed.add(l.digest);
      const blob = ctx.store.blobPath(l.digest);
      const stats = await timed(ctx, `sha256sum ${l.workload}`, () => sha256sum(blob));
      push(ctx, row("hash", l.workload, "-", "sha256sum", true, l, stats));
    }

    return {
      schema: 2,
      startedAt: startedAt.toISOString(),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      mode: opts.mode,
      seed: opts.seed,
      sizes: opts.sizes,
      sampling: opts.sampling,
      machine,
      load: { start: startLoad, end: currentLoad() },
      drivers: statuses,
      skipped,
      workloads: [...ctx.workloads.values()],
      layers: ctx.layers,
      rows: ctx.rows,
      targets: [...checkTargets(ctx.rows), ...moreTargets].sort((a, b) => a.issue - b.issue),
    };
  } finally {
    ctx.profiler?.close();
    images.close();
    if (opts.keep) ctx.log(`scratch kept: ${scratch}`);
    else await discard(scratch, opts.removeInBackground ?? false);
  }
}

/**
 * The layers every driver applies, written once by core's naive differ from plain
 * directories (a writable bind mount is used as it is, no mount and no driver involved):
 * the base image, and `small-files` and `large-files` (when selected) on an empty tree.
 */
async function writeAppliedLayers(
  ctx: RunContext,
  selected: readonly WorkloadId[],
): Promise<Map<string, Descriptor>> {
  const naive = new NaiveDiffer(ctx.store, ctx.mounts);
  const out = new Map<string, Descriptor>();
  const sources: Workload[] = [ctx.set.base];
  for (const id of ["small-files", "large-files"] as const) {
    if (selected.includes(id)) sources.push(ctx.set.changes.get(id)!);
  }
  for (const w of sources) {
    ctx.log(`layer ${w.id} (${w.title})`);
    const dir = path.join(ctx.scratch, "layers", w.id);
    await fs.mkdir(dir, { recursive: true });
    const made = materialize(dir, w, ctx.seed);
    ctx.workloads.set(w.id, { id: w.id, title: w.title, ...made });
    const desc = await naive.diff([], [{ type: "bind", source: dir, options: ["rbind", "rw"] }]);
    ctx.layers.push(layerRecord(w.id, "-", "naive", desc));
    out.set(w.id, desc);
  }
  return out;
}

/** Why the registry measurements cannot run (a missing tool), or undefined. */
function missingTools(tools: string[]): string | undefined {
  const dirs = (process.env.PATH ?? "/usr/bin:/bin").split(":");
  const missing = tools.filter((t) => !dirs.some((d) => existsSync(path.join(d, t))));
  return missing.length > 0
    ? `not installed: ${missing.join(", ")} (scripts/bootstrap)`
    : undefined;
}

const TRASH_PREFIX = "strata-bench-trash-";

/**
 * Remove the scratch directory with `rm -rf` (several times faster than Node's recursive
 * rm on this many files); in the background, it is first renamed to
 * `strata-bench-trash-*` so that the next run can tell it apart and finish the job.
 */
async function discard(scratch: string, inBackground: boolean): Promise<void> {
  if (inBackground) {
    const trash = path.join(path.dirname(scratch), `${TRASH_PREFIX}${path.basename(scratch)}`);
    await fs.rename(scratch, trash);
    background(trash);
    return;
  }
  await removeTree(scratch);
}

/**
 * Seconds to wait after deleting many files before measuring anything that creates many:
 * ext4 without a journal skips inodes deleted in about the last 30 s (`recently_deleted`),
 * one by one, so creating 20,000 files right after deleting as many takes seconds of kernel
 * time, and 20 s later half a second again (measured on this bench's reference machine).
 */
const SETTLE_AFTER_DELETE_SECONDS = 30;

/**
 * Finish removing what earlier runs left to a background `rm`, then let the filesystem
 * settle (see {@link SETTLE_AFTER_DELETE_SECONDS}), so nothing is measured in their wake.
 */
async function removeTrash(
  parent: string,
  log: (line: string) => void,
  wait: boolean,
): Promise<void> {
  const names = (await fs.readdir(parent)).filter((n) => n.startsWith(TRASH_PREFIX));
  if (names.length === 0) return;
  if (!wait) {
    // A quick run does not judge speed: let the removal go on beside it.
    for (const n of names) background(path.join(parent, n));
    return;
  }
  log(`removing what earlier runs left: ${names.join(", ")}`);
  for (const n of names) await removeTree(path.join(parent, n));
  log(`waiting ${SETTLE_AFTER_DELETE_SECONDS} s: creating files right after deleting many is slow`);
  await new Promise((r) => setTimeout(r, SETTLE_AFTER_DELETE_SECONDS * 1000));
}

/** `rm -rf dir` in a detached process that outlives this one. */
function background(dir: string): void {
  spawn("rm", ["-rf", "--one-file-system", dir], { stdio: "ignore", detached: true }).unref();
}

async function removeTree(dir: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn("rm", ["-rf", "--one-file-system", dir], { stdio: "ignore" });
    child.on("error", () => resolve());
    child.on("close", () => resolve());
  });
  await fs.rm(dir, { recursive: true, force: true });
}
