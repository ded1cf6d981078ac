/**
 * The build bench of issue 7, run on its own (`npx tsc -b bench && node
 * bench/dist/build-bench.js [DRIVER…]`, as root; default drivers: vfs overlay):
 *
 * 1. A fully cached rebuild of a 20-step Dockerfile (`strata build` as a process, start-up,
 *    database and driver selection included) must take under a second: the script builds
 *    it once, then times several rebuilds and prints mean and median against the 1 s target.
 * 2. A metadata-only step (ENV, LABEL, CMD) writes no layer data: the script builds a
 *    Dockerfile of such steps with `--no-cache` and counts what it added to the content
 *    store (layer tars vs. config and manifest JSON) and to the driver's directory.
 *
 * It uses the CLI only, as a user would; nothing here is a test.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const STRATA = path.join(repoRoot, "packages/cli/bin/strata.js");
const TARGET_MS = 1000;
const SAMPLES = 7;

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "utf8", maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

function strata(root: string, driver: string, args: string[]): Promise<string> {
  return exec(process.execPath, [STRATA, "--root", root, "--storage-driver", driver, ...args]);
}

/** The 20 steps: FROM, 4 RUN, 4 COPY, and 11 metadata steps. */
function dockerfile20(): string {
  return [
    "FROM busybox",
    "ENV APP=bench VERSION=1",
    "LABEL org.example.bench=build",
    "ARG LEVEL=3",
    "RUN mkdir -p /app/data && echo $LEVEL > /app/level",
    "COPY a.txt /app/",
    "WORKDIR /app",
    "COPY dir/ /app/dir/",
    "RUN ls -R /app > /app/listing",
    "ENV PATH=/app/bin:/bin:/usr/bin",
    "COPY b.txt c.txt /app/texts/",
    "EXPOSE 8080",
    "RUN echo built > /app/built",
    "USER 1000",
    "VOLUME /app/data",
    "COPY --chmod=755 run.sh /app/bin/run",
    "STOPSIGNAL SIGINT",
    "RUN true",
    'ENTRYPOINT ["/app/bin/run"]',
    'CMD ["--help"]',
    "",
  ].join("\n");
}

function makeContext(dir: string): void {
  fs.mkdirSync(path.join(dir, "dir/sub"), { recursive: true });
  fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile20());
  for (const n of ["a.txt", "b.txt", "c.txt"]) fs.writeFileSync(path.join(dir, n), `${n}\n`);
  for (let i = 0; i < 50; i++)
    fs.writeFileSync(path.join(dir, `dir/sub/f${i}`), "x".repeat(i * 100));
  fs.writeFileSync(path.join(dir, "run.sh"), '#!/bin/sh\necho run "$@"\n');
}

/** Blob files of the store and the bytes of those that are layer tars (`ustar` at 257). */
function blobs(root: string): Map<string, { size: number; tar: boolean }> {
  const dir = path.join(root, "content/blobs/sha256");
  const out = new Map<string, { size: number; tar: boolean }>();
  if (!fs.existsSync(dir)) return out;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const size = fs.statSync(file).size;
    const head = Buffer.alloc(262);
    const fd = fs.openSync(file, "r");
    const n = fs.readSync(fd, head, 0, 262, 0);
    fs.closeSync(fd);
    const gz = n >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    out.set(name, {
      size,
      tar: gz || (n >= 262 && head.subarray(257, 262).toString() === "ustar"),
    });
  }
  return out;
}

async function duBytes(dir: string): Promise<number> {
  if (!fs.existsSync(dir)) return 0;
  return Number((await exec("du", ["-sb", dir])).split("\t")[0]);
}

function stats(ms: number[]): { mean: number; median: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { mean, median };
}

async function benchDriver(driver: string, busyboxTar: string): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `strata-build-bench-${driver}-`));
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "strata-build-bench-ctx-"));
  try {
    await strata(root, driver, ["import", "-c", 'CMD ["sh"]', busyboxTar, "busybox:latest"]);
    makeContext(ctx);
    let t = performance.now();
    const first = await strata(root, driver, ["build", "-t", "bench", ctx]);
    const coldMs = performance.now() - t;
    const steps = (first.match(/^Step /gm) ?? []).length;
    // Rebuilds and the floor alternate, so that load changes touch both alike.
    const samples: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      t = performance.now();
      const out = await strata(root, driver, ["build", "-t", "bench", ctx]);
      samples.push(performance.now() - t);
      if (out.includes("Running in") || (out.match(/Using cache/g) ?? []).length !== steps - 1) {
        throw new Error(`${driver}: a rebuild was not fully cached:\n${out}`);
      }
      t = performance.now();
      await strata(root, driver, ["images", "-q"]);
      floor.push(performance.now() - t);
    }
    const { mean, median } = stats(samples);
    const f = stats(floor);
    console.log(
      `${driver.padEnd(8)} ${steps}-step build: first ${coldMs.toFixed(0)} ms; cached rebuild ` +
        `mean ${mean.toFixed(0)} ms, median ${median.toFixed(0)} ms (${SAMPLES} samples); ` +
        `target ${TARGET_MS} ms: ratio target/mean ${(TARGET_MS / mean).toFixed(2)}, ` +
        `target/median ${(TARGET_MS / median).toFixed(2)} — ${median < TARGET_MS ? "PASS" : "FAIL"}`,
    );
    console.log(
      `${"".padEnd(8)} floor: \`strata images -q\` (same start-up, store and driver) mean ` +
        `${f.mean.toFixed(0)} ms, median ${f.median.toFixed(0)} ms; the rebuild's own work ` +
        `~${Math.max(0, median - f.median).toFixed(0)} ms (medians)`,
    );

    // Metadata-only steps: only config and manifest JSON may be written.
    fs.writeFileSync(
      path.join(ctx, "Dockerfile"),
      'FROM busybox\nENV A=1 B=2\nLABEL x=y\nCMD ["echo", "meta"]\nEXPOSE 80\nUSER 1\n',
    );
    const before = blobs(root);
    const driverBefore = await duBytes(path.join(root, driver));
    await strata(root, driver, ["build", "--no-cache", "-t", "meta", ctx]);
    const after = blobs(root);
    const driverAfter = await duBytes(path.join(root, driver));
    let layerBytes = 0;
    let jsonBytes = 0;
    let jsonBlobs = 0;
    for (const [name, b] of after) {
      if (before.has(name)) continue;
      if (b.tar) layerBytes += b.size;
      else {
        jsonBytes += b.size;
        jsonBlobs++;
      }
    }
    const layers = JSON.parse(
      await strata(root, driver, ["inspect", "--format", "{{json .RootFS.Layers}}", "meta"]),
    );
    const baseLayers = JSON.parse(
      await strata(root, driver, ["inspect", "--format", "{{json .RootFS.Layers}}", "busybox"]),
    );
    console.log(
      `${driver.padEnd(8)} 5 metadata-only steps: layer data written ${layerBytes} B ` +
        `(config+manifest JSON: ${jsonBlobs} blobs, ${jsonBytes} B); driver directory ` +
        `${driverAfter - driverBefore >= 0 ? "+" : ""}${driverAfter - driverBefore} B; layers ` +
        `${baseLayers.length} -> ${layers.length} — ${layerBytes === 0 && layers.length === baseLayers.length ? "PASS" : "FAIL"}`,
    );
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const drivers = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["vfs", "overlay"];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "strata-build-bench-"));
  try {
    const tar = path.join(tmp, "busybox.tar");
    await exec("bash", [path.join(repoRoot, "scripts/make-busybox-rootfs"), tar]);
    console.log(
      `strata build bench (issue 7), load ${os.loadavg()[0]!.toFixed(2)}, ${os.cpus().length} CPUs`,
    );
    for (const d of drivers) await benchDriver(d, tar);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
