#!/usr/bin/env node
// tsyringe (inside @strata/core) needs the Reflect metadata polyfill before it loads.
import "reflect-metadata";
import { parseBenchArgs, USAGE, UsageError } from "./args.js";
import { runBench } from "./bench.js";
import { renderSummary } from "./report.js";

/** `npm run bench`: parse, run, print the summary and where the report is. */
async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { help: _, ...opts } = args;
  const t0 = performance.now();
  const log = (line: string) =>
    process.stderr.write(
      `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`,
    );
  log(
    `strata bench: ${opts.mode}, seed ${opts.seed}, drivers ${opts.drivers.join(",")}, ` +
      `workloads ${opts.workloads.join(",")}`,
  );
  // A run leaves tens (quick) or hundreds of thousands of files: they are removed in the
  // background, after the report is out.
  const run = await runBench({ ...opts, log, removeInBackground: !opts.keep });
  process.stdout.write(
    `\n${renderSummary(run.result)}\n\nreport: ${run.markdown}\n        ${run.json}\n        ${run.html}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
