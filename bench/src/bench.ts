import { writeReport } from "./report.js";
import type { BenchResult } from "./results.js";
import { runSuite, type SuiteOptions } from "./suite.js";

/** What one bench run produced: the results and where the report went. */
export interface BenchRun {
  result: BenchResult;
  markdown: string;
  json: string;
}

/** Run the suite and write its report into `out` (what `npm run bench` does). */
export async function runBench(opts: SuiteOptions & { out: string }): Promise<BenchRun> {
  const result = await runSuite(opts);
  const paths = await writeReport(result, opts.out);
  return { result, ...paths };
}
