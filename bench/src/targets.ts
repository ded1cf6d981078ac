import type { Row, TargetCheck } from "./results.js";

/** Issue 3: apply must reach at least this fraction of `tar -x`'s speed. */
export const APPLY_TARGET_RATIO = 0.8;
/** Issue 3: a 10-file change diffs "in milliseconds" natively; read as under this. */
export const PROPORTIONAL_TARGET_SECONDS = 0.1;
/** Issue 4: `diff` lists the container's changes at this many entries per second or more. */
export const DIFF_LISTING_TARGET = 50_000;
/** Issue 6: save and load at this fraction of `tar -cf` and `sha256sum` or better. */
export const ARCHIVE_TARGET_RATIO = 0.8;
/** Issue 8: aufs reads at this fraction of fuse-overlayfs's speed or better. */
export const AUFS_READ_TARGET = 1.0;
/** Issue 8: aufs metadata operations at this fraction of fuse-overlayfs's rate or better. */
export const AUFS_METADATA_TARGET = 0.5;
/** Issue 8: aufs diff and commit "as fast as on overlay": within this factor of overlay's time. */
export const AUFS_COMMIT_SLACK = 1.1;

/**
 * Check the speed targets the issues set against a run's rows. Ratios must hold by means
 * and by medians both: one slow floor sample (another process's I/O) must not make a miss
 * look like a pass. Rows that did not run give no check (the report lists what was skipped).
 */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const find = (p: Partial<Row>) =>
    rows.find((r) =>
      Object.entries(p).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
    );
  const both = (r: Row) => Math.min(r.ratio ?? 0, r.ratioMedian ?? r.ratio ?? 0);
  const ratioText = (r: Row) =>
    `${r.ratio?.toFixed(2) ?? "?"}× (medians: ${r.ratioMedian?.toFixed(2) ?? "?"}×)`;

  for (const r of rows) {
    if (r.section !== "apply" || r.floor || r.ratio === undefined) continue;
    out.push({
      issue: 3,
      id: `apply:${r.driver}:${r.workload}`,
      description: `apply ${r.workload} on ${r.driver} at ≥ ${APPLY_TARGET_RATIO}× the speed of tar -x`,
      measured: ratioText(r),
      pass: both(r) >= APPLY_TARGET_RATIO,
    });
  }
  const native = find({ section: "proportional", driver: "overlay", subject: "native" });
  if (native) {
    const naive = find({ section: "proportional", driver: "overlay", subject: "naive" });
    const contrast = naive
      ? ` (naive ${ms(naive.stats.mean)}, ${(naive.stats.mean / native.stats.mean).toFixed(0)}× longer)`
      : "";
    out.push({
      issue: 3,
      id: "proportional:overlay",
      description: `overlay native diff of the 10-file change under ${ms(PROPORTIONAL_TARGET_SECONDS)}`,
      measured: `${ms(native.stats.mean)}${contrast}`,
      pass: native.stats.mean < PROPORTIONAL_TARGET_SECONDS,
    });
  }

  const commit = find({
    section: "commit",
    workload: "container",
    driver: "overlay",
    subject: "native",
  });
  if (commit?.ratio !== undefined) {
    out.push({
      issue: 4,
      id: "commit:overlay",
      description:
        "overlay commit of the container change takes no longer than tar -c upper | sha256sum",
      measured: `${ms(commit.stats.mean)}, ${ratioText(commit)} the floor's speed`,
      pass: both(commit) >= 1,
    });
  }
  const listing = find({
    section: "diff",
    workload: "container",
    driver: "overlay",
    subject: "native",
  });
  if (listing) {
    const rate = listing.entries / listing.stats.mean;
    const medianRate = listing.entries / listing.stats.median;
    out.push({
      issue: 4,
      id: "diff:overlay",
      description: `overlay diff lists the container change at ≥ ${DIFF_LISTING_TARGET.toLocaleString("en-US")} entries/s`,
      measured: `${Math.round(rate).toLocaleString("en-US")} entries/s (median ${Math.round(medianRate).toLocaleString("en-US")})`,
      pass: Math.min(rate, medianRate) >= DIFF_LISTING_TARGET,
    });
  }

  for (const op of ["save", "load"] as const) {
    const r = rows.find((x) => x.section === "archive" && x.workload === op && !x.floor);
    if (r?.ratio === undefined) continue;
    out.push({
      issue: 6,
      id: `archive:${op}`,
      description:
        op === "save"
          ? `save at ≥ ${ARCHIVE_TARGET_RATIO}× the speed of tar -cf FILE over the same blobs`
          : `load at ≥ ${ARCHIVE_TARGET_RATIO}× the speed of sha256sum over the same bytes`,
      measured: `${ratioText(r)}, ${(r.bytes / 1e6).toFixed(0)} MB archive`,
      pass: both(r) >= ARCHIVE_TARGET_RATIO,
    });
  }

  for (const op of ["read", "stat", "readdir", "create", "unlink"] as const) {
    const aufs = find({ section: "mount", workload: op, driver: "aufs" });
    const peer = find({ section: "mount", workload: op, driver: "fuse-overlayfs" });
    if (!aufs || !peer) continue;
    const want = op === "read" ? AUFS_READ_TARGET : AUFS_METADATA_TARGET;
    const mean = peer.stats.mean / aufs.stats.mean;
    const median = peer.stats.median / aufs.stats.median;
    out.push({
      issue: 8,
      id: `mount:${op}`,
      description: `aufs ${op === "read" ? "sequential reads" : op} at ≥ ${want.toFixed(1)}× the speed of fuse-overlayfs`,
      measured: `${mean.toFixed(2)}× (medians: ${median.toFixed(2)}×)`,
      pass: Math.min(mean, median) >= want,
    });
  }
  const aufsCommit = find({
    section: "commit",
    workload: "container",
    driver: "aufs",
    subject: "native",
  });
  const aufsListing = find({
    section: "diff",
    workload: "container",
    driver: "aufs",
    subject: "native",
  });
  for (const [what, mine, peer] of [
    ["diff", aufsListing, listing],
    ["commit", aufsCommit, commit],
  ] as const) {
    if (!mine || !peer) continue;
    const f = mine.stats.mean / peer.stats.mean;
    out.push({
      issue: 8,
      id: `${what}:aufs`,
      description: `aufs ${what} of the container change as fast as overlay's (within ${Math.round((AUFS_COMMIT_SLACK - 1) * 100)}%)`,
      measured: `${ms(mine.stats.mean)} vs ${ms(peer.stats.mean)} (${f.toFixed(2)}× overlay's time)`,
      pass: f <= AUFS_COMMIT_SLACK,
    });
  }
  return out;
}

function ms(seconds: number): string {
  return seconds >= 1
    ? `${seconds.toFixed(2)} s`
    : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}
