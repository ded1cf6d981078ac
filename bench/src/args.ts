import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DRIVER_NAMES, type DriverName } from "./drivers.js";
import { EXTRAS, type Extra, type SuiteOptions } from "./suite.js";
import { FULL_SIZES, QUICK_SIZES, WORKLOAD_IDS, type WorkloadId } from "./workload.js";

/** The bench package's own directory (`bench/`), from `src/` or `dist/`. */
export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** `npm run bench -- --help`. */
export const USAGE = `Usage: npm run bench -- [options]

Runs strata's throughput suite and writes bench/results/<date>-<host>.md, .json, .html
(charts) and -summary.md (the README's tables).

Options (each also read from the environment variable shown):
  --quick               small sizes and 2 samples: checks that everything runs (STRATA_BENCH_QUICK=1)
  --drivers LIST        comma-separated, of: ${DRIVER_NAMES.join(", ")} (STRATA_BENCH_DRIVERS)
  --workloads LIST      comma-separated, of: ${WORKLOAD_IDS.join(", ")} (STRATA_BENCH_WORKLOADS)
  --extras LIST         comma-separated, of: ${EXTRAS.join(", ")}, or none; default all (STRATA_BENCH_EXTRAS)
  --seed N              workload seed, default 1 (STRATA_BENCH_SEED)
  --samples N           at least N samples per measurement; default 3, quick 2 (STRATA_BENCH_SAMPLES)
  --max-time S          keep sampling for S seconds per measurement; default 1, quick 0 (STRATA_BENCH_MAX_TIME)
  --out DIR             where reports go, default bench/results (STRATA_BENCH_OUT)
  --scratch DIR         where the trees are made, default the temp dir (STRATA_BENCH_SCRATCH)
  --keep                keep the scratch directory
  --profile             profile each strata operation once more, after measuring it; the report
                        gets a "Where the time goes" section, .cpuprofile files go next to it
  -h, --help            this text

Examples:
  npm run bench
  npm run bench -- --quick
  npm run bench -- --drivers overlay --workloads small-files,large-files --samples 10
`;

/** Bad command-line input: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** What the command line asks for. */
export type BenchArgs =
  | { help: true }
  | ({ help: false; out: string; profile: boolean } & Omit<SuiteOptions, "log" | "profileDir">);

/** Parse argv (without node and script) and the `STRATA_BENCH_*` environment. */
export function parseBenchArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BenchArgs {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { help: true };
  const quick = values.quick || env.STRATA_BENCH_QUICK === "1";
  const drivers = list(values.drivers ?? env.STRATA_BENCH_DRIVERS, DRIVER_NAMES, "driver");
  const workloads = list(values.workloads ?? env.STRATA_BENCH_WORKLOADS, WORKLOAD_IDS, "workload");
  const extrasArg = values.extras ?? env.STRATA_BENCH_EXTRAS;
  const extras = extrasArg?.trim() === "none" ? [] : list(extrasArg, EXTRAS, "extra");
  return {
    help: false,
    mode: quick ? "quick" : "full",
    seed: int(values.seed ?? env.STRATA_BENCH_SEED, 1, "--seed", 0),
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
    drivers: drivers as DriverName[],
    workloads: workloads as WorkloadId[],
    extras: extras as Extra[],
    sampling: {
      minSamples: int(values.samples ?? env.STRATA_BENCH_SAMPLES, quick ? 2 : 3, "--samples", 2),
      maxTime: num(values["max-time"] ?? env.STRATA_BENCH_MAX_TIME, quick ? 0 : 1, "--max-time"),
      ...(quick ? { quick: true } : {}),
    },
    out: path.resolve(values.out ?? env.STRATA_BENCH_OUT ?? path.join(BENCH_DIR, "results")),
    scratchParent: path.resolve(values.scratch ?? env.STRATA_BENCH_SCRATCH ?? os.tmpdir()),
    keep: values.keep ?? false,
    profile: values.profile ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean" },
      drivers: { type: "string" },
      workloads: { type: "string" },
      extras: { type: "string" },
      seed: { type: "string" },
      samples: { type: "string" },
      "max-time": { type: "string" },
      out: { type: "string" },
      scratch: { type: "string" },
      keep: { type: "boolean" },
      profile: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function list(value: string | undefined, known: readonly string[], what: string): string[] {
  if (value === undefined || value.trim() === "") return [...known];
  const picked = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of picked) {
    if (!known.includes(p))
      throw new UsageError(`unknown ${what} "${p}" (known: ${known.join(", ")})`);
  }
  // Keep the suite's own order, whatever order they were given in.
  return known.filter((k) => picked.includes(k));
}

function int(value: string | undefined, dflt: number, flag: string, min: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag}: "${value}" is not an integer ≥ ${min}`);
  return n;
}

function num(value: string | undefined, dflt: number, flag: string): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag}: "${value}" is not a number ≥ 0`);
  return n;
}
