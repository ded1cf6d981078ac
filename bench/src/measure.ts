import Benchmark from "benchmark";

/** How many samples a measurement takes. */
export interface SamplingOptions {
  /** At least this many samples. */
  minSamples: number;
  /** Keep sampling until this many seconds have been spent (after `minSamples`). */
  maxTime: number;
  /**
   * Quick runs: no untimed warm-up call and no flush of the filesystem between samples
   * (`sync -f` waits for every other process's dirty pages on a shared machine). Speed is
   * not judged then, so only the time the run takes matters.
   */
  quick?: boolean;
}

/** benchmark.js's statistics of one measurement, in seconds per operation. */
export interface Stats {
  /** Mean time of one operation. */
  mean: number;
  /** Sample standard deviation. */
  deviation: number;
  /** Relative margin of error at 95% confidence, in percent. */
  rme: number;
  /** Median sample: what a few samples slowed down by other work on the machine barely move. */
  median: number;
  /** Every sample: seconds per operation. */
  samples: number[];
  /** Times another process dropped the page cache while this was measured, when any. */
  dropCaches?: number;
}

/** What {@link measure} is told about one measurement. */
export interface MeasureSpec {
  /** Name shown by benchmark.js and in errors. */
  name: string;
  /** The timed operation. */
  fn: () => Promise<unknown>;
  /** Untimed work before each sample, for example emptying the directory `fn` fills. */
  reset?: () => void;
}

/**
 * Time `spec.fn` with benchmark.js: one untimed warm-up call (unless the caller made it
 * already, `warmup: false`), then deferred samples of
 * exactly one call each (these operations take milliseconds to seconds, so there is no
 * point in looping them; a one-call sample also lets `reset` run between samples, which
 * benchmark.js's own `setup` cannot do for asynchronous work).
 * @throws whatever `fn` throws, with the measurement's name.
 */
export async function measure(
  spec: MeasureSpec,
  sampling: SamplingOptions,
  { warmup = true }: { warmup?: boolean } = {},
): Promise<Stats> {
  if (warmup && !sampling.quick) {
    spec.reset?.();
    await spec.fn();
  }
  spec.reset?.();

  let failure: unknown;
  const bench = new Benchmark(spec.name, {
    defer: true,
    // A sample is one call: the calibration loop never grows `count` past 1.
    initCount: 1,
    minTime: 1e-9,
    minSamples: sampling.minSamples,
    maxTime: sampling.maxTime,
    // No delay between samples: the timer is not started until the next call.
    delay: 0,
    fn(deferred: Benchmark.Deferred) {
      spec.fn().then(
        () => deferred.resolve(),
        (err: unknown) => {
          failure = err;
          deferred.benchmark.abort();
          deferred.resolve();
        },
      );
    },
    onCycle() {
      if (failure === undefined) spec.reset?.();
    },
  });
  await new Promise<void>((resolve) => {
    bench.on("complete", () => resolve());
    bench.on("error", () => resolve());
    bench.run({ async: true });
  });
  if (failure !== undefined || bench.error) {
    const err = failure ?? bench.error;
    throw new Error(`${spec.name}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const s = bench.stats;
  const sorted = [...s.sample].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { mean: s.mean, deviation: s.deviation, rme: s.rme, median, samples: [...s.sample] };
}

/** Student's t at 95% (two-sided) for 1–30 degrees of freedom; 1.96 beyond (as benchmark.js). */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/**
 * The statistics benchmark.js computes (mean, sample deviation, relative margin of error at
 * 95%, plus the median), from samples taken by hand: the mounted-filesystem measurements
 * time each operation on a fresh mount, which an asynchronous, untimed mount between
 * samples makes impossible inside benchmark.js.
 */
export function statsOf(samples: readonly number[]): Stats {
  const n = samples.length;
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const deviation = Math.sqrt(variance);
  const sem = deviation / Math.sqrt(n);
  const t = n > 1 ? (T95[n - 2] ?? 1.96) : 0;
  const rme = mean > 0 ? ((sem * t) / mean) * 100 : 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = n >> 1;
  const median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { mean, deviation, rme, median, samples: [...samples] };
}
