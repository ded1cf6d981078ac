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
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `strata bench: ${opts.mode}, seed ${opts.seed}, drivers ${opts.drivers.join(",")}, ` +
      `workloads ${opts.workloads.join(",")}`,
  );
  // A full run leaves hundreds of thousands of files: remove them after the report is out.
  const run = await runBench({
    ...opts,
    log,
    removeInBackground: opts.mode === "full" && !opts.keep,
  });
  process.stdout.write(
    `\n${renderSummary(run.result)}\n\nreport: ${run.markdown}\n        ${run.json}\n`,
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
