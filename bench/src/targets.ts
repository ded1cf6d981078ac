import type { Row, TargetCheck } from "./results.js";

/** Issue 3: apply must reach at least this fraction of `tar -x`'s speed. */
export const APPLY_TARGET_RATIO = 0.8;
/** Issue 3: a 10-file change diffs "in milliseconds" natively; read as under this. */
export const PROPORTIONAL_TARGET_SECONDS = 0.1;

/**
 * Check the speeds issue 3 asks for against a run's rows: every apply at
 * {@link APPLY_TARGET_RATIO} of `tar -x` or better (by means and by medians), and overlay's native diff of the
 * 10-file change under {@link PROPORTIONAL_TARGET_SECONDS}. Rows that did not run give no
 * check (the report lists skipped drivers separately).
 */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const r of rows) {
    if (r.section !== "apply" || r.floor || r.ratio === undefined) continue;
    out.push({
      id: `apply:${r.driver}:${r.workload}`,
      description: `apply ${r.workload} on ${r.driver} at ≥ ${APPLY_TARGET_RATIO}× the speed of tar -x`,
      measured: `${r.ratio.toFixed(2)}× (medians: ${r.ratioMedian?.toFixed(2) ?? "?"}×)`,
      // Both the means' and the medians' ratio must be there: one slow floor sample (another
      // process's I/O) must not make a miss look like a pass.
      pass: Math.min(r.ratio, r.ratioMedian ?? r.ratio) >= APPLY_TARGET_RATIO,
    });
  }
  const find = (subject: string) =>
    rows.find(
      (r) => r.section === "proportional" && r.driver === "overlay" && r.subject === subject,
    );
  const native = find("native");
  if (native) {
    const naive = find("naive");
    const contrast = naive
      ? ` (naive ${ms(naive.stats.mean)}, ${(naive.stats.mean / native.stats.mean).toFixed(0)}× longer)`
      : "";
    out.push({
      id: "proportional:overlay",
      description: `overlay native diff of the 10-file change under ${ms(PROPORTIONAL_TARGET_SECONDS)}`,
      measured: `${ms(native.stats.mean)}${contrast}`,
      pass: native.stats.mean < PROPORTIONAL_TARGET_SECONDS,
    });
  }
  return out;
}

function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}
