import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { renderHtml } from "./html-report.js";
import { reportBaseName, writeReport } from "./report.js";
import type { BenchResult } from "./results.js";
import { runSuite, type SuiteOptions } from "./suite.js";
import { renderReadmeSummary } from "./summary.js";

/** What one bench run produced: the results and where the report went. */
export interface BenchRun {
  result: BenchResult;
  markdown: string;
  json: string;
  /** The self-contained HTML report with its charts. */
  html: string;
  /** The compact tables the README shows. */
  summary: string;
}

/**
 * Run the suite and write its report into `out` (what `npm run bench` does); with
 * `profile`, CPU profiles go to `<out>/<date>-<host>-profiles/`.
 */
export async function runBench(
  opts: SuiteOptions & { out: string; profile?: boolean },
): Promise<BenchRun> {
  const { profile, ...suite } = opts;
  if (profile) {
    const base = reportBaseName(new Date().toISOString(), os.hostname(), opts.mode);
    suite.profileDir = path.join(opts.out, `${base}-profiles`);
  }
  const result = await runSuite(suite);
  const paths = await writeReport(result, opts.out);
  const html = paths.markdown.replace(/\.md$/, ".html");
  await fs.writeFile(html, renderHtml(result));
  const summary = paths.markdown.replace(/\.md$/, "-summary.md");
  await fs.writeFile(summary, renderReadmeSummary(result));
  return { result, ...paths, html, summary };
}
