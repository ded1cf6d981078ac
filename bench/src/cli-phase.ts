import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Descriptor } from "@strata/core";
import { tarCreateHash } from "./floors.js";
import { compared, push, type RunContext, row, timed } from "./run-context.js";

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
 * lock, database, mounts included), per driver: the base layer is imported as an image, a
 * container is created from it and the `small-files` tree is copied into it (`strata cp`),
 * then `commit` (a new image each sample) and `diff` are timed. The floor is GNU
 * `tar -c | sha256sum` of the same tree; the in-process commit of the same change is in the
 * commit section, so the difference is what a process costs.
 */
export async function cliPhase(
  ctx: RunContext,
  drivers: readonly string[],
  base: Descriptor,
  smallTree: string,
  smallLayer: { size: number; entries: number },
): Promise<void> {
  const tarFile = ctx.store.blobPath(base.digest);
  for (const driver of drivers) {
    ctx.log(`${driver}: strata commit and diff (CLI)`);
    const root = path.join(ctx.scratch, `cli-${driver}`);
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
    const floor = await timed(ctx, `tar -c | sha256sum small-files cli ${driver}`, () =>
      tarCreateHash(smallTree),
    );
    push(
      ctx,
      compared(
        row("commit-cli", "small-files", driver, "strata commit", false, smallLayer, commitStats),
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
        { size: smallLayer.size, entries: lines },
        diffStats,
      ),
    );
    push(
      ctx,
      row("commit-cli", "small-files", driver, "tar -c | sha256sum", true, smallLayer, floor),
    );
    // The container's mounts end with each command; remove it so nothing stays mounted.
    await strata(root, driver, ["rm", "-f", "bench-c"]).catch(() => "");
  }
}
