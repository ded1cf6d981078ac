import type { DriverName } from "./drivers.js";
import type { Load, Machine } from "./machine.js";
import type { Stats } from "./measure.js";
import type { ProfileSummary } from "./profile.js";
import type { WorkloadSizes } from "./workload.js";

/** The report's sections, in the order they are shown. */
export const SECTIONS = [
  "diff",
  "commit",
  "commit-cli",
  "apply",
  "proportional",
  "mount",
  "chain",
  "archive",
  "registry",
  "hash",
] as const;
/** One of {@link SECTIONS}. */
export type Section = (typeof SECTIONS)[number];

/** Headings of the report's sections (the smoke test looks for each). */
export const SECTION_TITLES: Record<Section, string> = {
  diff: "Diff throughput (the change list)",
  commit: "Commit throughput",
  "commit-cli": "strata commit, end to end",
  apply: "Apply (unpack) throughput",
  mount: "Mounted filesystems",
  chain: "Deep chains",
  archive: "Save and load",
  registry: "Pull and push",
  proportional: "Native diff proportional to the change",
  hash: "Hashing floor",
};

/** One measurement: a strata operation or the floor it is compared with. */
export interface Row {
  section: Section;
  /** Workload id (`base` for the base image's layer). */
  workload: string;
  /**
   * The driver (or, for mounted filesystems, `overlay`, `aufs`, `fuse-overlayfs` or the
   * plain `ext4`-or-whatever directory of a floor), or `-` where none applies.
   */
  driver: string;
  /** `native`, `naive`, `apply`, or the floor's command line. */
  subject: string;
  /** True for a floor (GNU tar, sha256sum). */
  floor: boolean;
  /** Uncompressed layer bytes the operation produces or consumes (the same for its floor). */
  bytes: number;
  /** Tar entries of that layer. */
  entries: number;
  stats: Stats;
  /**
   * Speed relative to the floor next to it: the floor's mean time over this row's mean
   * time. 1 is as fast as the floor, 0.5 half as fast (twice the time).
   */
  ratio?: number;
  /** Relative margin of error of `ratio` in percent: both rows' margins, combined. */
  ratioRme?: number;
  /** The same ratio from the two rows' median samples. */
  ratioMedian?: number;
  /** With `--profile`: where one more run of the operation spent its time. */
  profile?: ProfileSummary;
}

/** A layer the run produced, and which differ produced it. */
export interface LayerRecord {
  workload: string;
  /** The driver whose snapshots it was diffed from, `-` for a plain directory. */
  driver: string;
  differ: "native" | "naive";
  digest: string;
  size: number;
  entries: number;
}

/** Whether a driver ran, and what the report should say about it. */
export interface DriverStatus {
  name: DriverName;
  available: boolean;
  /** Why it did not run. */
  reason?: string;
  notes: string[];
}

/** A speed target an issue sets, checked against this run. */
export interface TargetCheck {
  /** The issue that sets it (3: overlay, 4: containers, 5: registry, 6: save/load, 8: aufs). */
  issue: number;
  id: string;
  description: string;
  /** What was measured, as shown. */
  measured: string;
  pass: boolean;
}

/** Everything one run produced; written as the `.json` report. */
export interface BenchResult {
  schema: 2;
  /** ISO date and time the run started. */
  startedAt: string;
  /** Seconds the whole run took. */
  seconds: number;
  mode: "full" | "quick";
  seed: number;
  sizes: WorkloadSizes;
  sampling: { minSamples: number; maxTime: number };
  machine: Machine;
  /** The machine's load when the run started and when it ended. */
  load: { start: Load; end: Load };
  drivers: DriverStatus[];
  /** Parts of the suite that could not run here, and why. */
  skipped: { section: Section; what: string; reason: string }[];
  workloads: { id: string; title: string; files: number; bytes: number }[];
  layers: LayerRecord[];
  rows: Row[];
  targets: TargetCheck[];
}
