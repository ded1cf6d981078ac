import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { tarCreateFile, tarCreateHash } from "./floors.js";
import { compared, push, type RunContext, row, timed } from "./run-context.js";
import { generateWorkloads, materialize, QUICK_SIZES } from "./workload.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The `strata` command, as a user runs it (it loads `packages/cli/dist`). */
export const STRATA_BIN = path.join(repoRoot, "packages/cli/bin/strata.js");

function strata(root: string, driver: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [STRATA_BIN, "--root", root, "--storage-driver", driver, ...args],
      { encoding: "utf8", maxBuffer: 256 * 2 ** 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`strata ${args.join(" ")}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * `strata commit` and `strata diff` end to end, as separate processes (start-up, store
 * lock, database, mounts included), per driver, on a small container so that what a
 * process costs shows: the quick run's base image (600 files, as a tar made by GNU tar)
 * is imported, a container created from it, the quick run's small-files tree (200 files)
 * copied in with `strata cp`; then `commit` (a new image each sample) and `diff` are timed.
 * The floor is GNU `tar -c | sha256sum` of the copied tree.
 */
export async function cliPhase(ctx: RunContext, drivers: readonly string[]): Promise<void> {
  const dir = path.join(ctx.scratch, "cli");
  const set = generateWorkloads(ctx.seed, QUICK_SIZES);
  const baseDir = path.join(dir, "base");
  const smallTree = path.join(dir, "small");
  await fs.mkdir(baseDir, { recursive: true });
  await fs.mkdir(smallTree, { recursive: true });
  materialize(baseDir, set.base, ctx.seed);
  const small = materialize(smallTree, set.changes.get("small-files")!, ctx.seed);
  const tarFile = path.join(dir, "base.tar");
  await tarCreateFile(tarFile, [baseDir], baseDir);
  const smallDims = { size: small.bytes, entries: small.files };
  for (const driver of drivers) {
    ctx.log(`${driver}: strata commit and diff (CLI)`);
    const root = path.join(dir, driver);
    await fs.mkdir(root, { recursive: true });
    await strata(root, driver, ["import", tarFile, "bench/base:latest"]);
    await strata(root, driver, ["create", "--name", "bench-c", "bench/base:latest", "/bin/true"]);
    await strata(root, driver, ["cp", path.join(smallTree, "app"), "bench-c:/"]);
    let n = 0;
    const commit = () => strata(root, driver, ["commit", "bench-c", `bench/commit:${n++}`]);
    // No untimed warm-up: every process starts cold anyway.
    const sampling = { ...ctx.sampling, maxTime: 0 }; // exactly the minimum: processes are slow
    const commitStats = await timed(ctx, `strata commit ${driver}`, commit, {
      warmup: false,
      sampling,
    });
    let lines = 0;
    const diff = async () => {
      lines = (await strata(root, driver, ["diff", "bench-c"])).split("\n").filter(Boolean).length;
    };
    const diffStats = await timed(ctx, `strata diff ${driver}`, diff, { warmup: false, sampling });
    const floor = await timed(ctx, `tar -c | sha256sum cli ${driver}`, () =>
      tarCreateHash(smallTree),
    );
    push(
      ctx,
      compared(
        row("commit-cli", "small-files", driver, "strata commit", false, smallDims, commitStats),
        floor,
      ),
    );
    push(
      ctx,
      row(
        "commit-cli",
        "small-files",
        driver,
        "strata diff",
        false,
        { size: small.bytes, entries: lines },
        diffStats,
      ),
    );
    push(
      ctx,
      row("commit-cli", "small-files", driver, "tar -c | sha256sum", true, smallDims, floor),
    );
    // The container's mounts end with each command; remove it so nothing stays mounted.
    await strata(root, driver, ["rm", "-f", "bench-c"]).catch(() => "");
  }
}
