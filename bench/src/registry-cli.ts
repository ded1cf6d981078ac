#!/usr/bin/env node
// tsyringe (inside @strata/core) needs the Reflect metadata polyfill before it loads.
import "reflect-metadata";
import * as os from "node:os";
import { renderRegistryReport, runRegistryBench } from "./registry-bench.js";

/**
 * `npm run bench:registry --workspace bench [-- --mb N --samples N]`: the registry
 * throughput measurements of issue 5, printed as Markdown.
 */
async function main(argv: string[]): Promise<number> {
  const arg = (name: string, dflt: number) => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`);
    return v;
  };
  const result = await runRegistryBench({
    megabytes: arg("--mb", 370),
    samples: arg("--samples", 3),
    scratchParent: process.env.STRATA_BENCH_SCRATCH ?? os.tmpdir(),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(renderRegistryReport(result));
  return result.targets.every((t) => t.pass) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
