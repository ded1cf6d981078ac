import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBenchArgs } from "./args.js";
import { type BenchRun, runBench } from "./bench.js";
import { DRIVER_NAMES } from "./drivers.js";
import { type BenchResult, SECTION_TITLES, SECTIONS } from "./results.js";
import { WORKLOAD_IDS } from "./workload.js";

// One `--quick` run of the whole suite, checked for shape: every section of the report is
// there with numbers, every workload ran on every driver that could run here. Speed is
// not judged (quick sizes say nothing about it, and CI machines are noisy).
const asRoot = process.getuid?.() === 0;

describe("bench --quick", () => {
  let dir: string;
  let run: BenchRun;
  let markdown: string;
  let json: BenchResult;
  const log: string[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "strata-bench-test-"));
    const args = parseBenchArgs(["--quick", "--out", dir, "--scratch", dir], {});
    if (args.help) throw new Error("unexpected --help");
    const { help: _, ...opts } = args;
    run = await runBench({ ...opts, log: (l) => log.push(l) });
    markdown = await fs.readFile(run.markdown, "utf8");
    json = JSON.parse(await fs.readFile(run.json, "utf8")) as BenchResult;
  }, 120_000);

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("names the report <date>-<host>-quick and cleans its scratch directory", async () => {
    expect(path.basename(run.markdown)).toMatch(/^\d{4}-\d{2}-\d{2}-.+-quick\.md$/);
    expect(path.basename(run.json)).toBe(path.basename(run.markdown).replace(/\.md$/, ".json"));
    const left = (await fs.readdir(dir)).filter((n) => n.startsWith("strata-bench-"));
    expect(left).toEqual([]);
  });

  it("runs every driver that can run here, and says why any other was skipped", () => {
    expect(json.drivers.map((d) => d.name)).toEqual([...DRIVER_NAMES]);
    for (const d of json.drivers) {
      if (!d.available) expect(d.reason, d.name).toBeTruthy();
    }
    expect(json.drivers.find((d) => d.name === "vfs")?.available).toBe(true);
    // Overlay and aufs need root; as root (and always in CI) they must have run.
    if (asRoot || process.env.CI === "true") {
      for (const name of ["overlay", "aufs"]) {
        const d = json.drivers.find((x) => x.name === name);
        expect(d?.available, `${name}: ${d?.reason ?? ""}`).toBe(true);
      }
    }
  });

  it("measures every workload on every driver, each beside its floor, with statistics", () => {
    const drivers = json.drivers.filter((d) => d.available).map((d) => d.name);
    for (const driver of drivers) {
      for (const id of WORKLOAD_IDS) {
        const section = id === "ten-files" ? "proportional" : "diff";
        const rows = json.rows.filter(
          (r) => r.section === section && r.driver === driver && r.workload === id,
        );
        const subjects = rows.map((r) => r.subject);
        expect(subjects, `${driver} ${id}`).toContain("naive");
        expect(subjects, `${driver} ${id}`).toContain("tar -c | sha256sum");
        if (driver !== "vfs") expect(subjects, `${driver} ${id}`).toContain("native");
        for (const r of rows.filter((x) => !x.floor))
          expect(r.ratio, `${driver} ${id} ${r.subject}`).toBeGreaterThan(0);
      }
      for (const id of ["base", "small-files", "large-files"]) {
        const rows = json.rows.filter(
          (r) => r.section === "apply" && r.driver === driver && r.workload === id,
        );
        expect(rows.map((r) => r.subject).sort(), `${driver} apply ${id}`).toEqual([
          "apply",
          "tar -x",
        ]);
      }
    }
    expect(json.rows.filter((r) => r.section === "hash").length).toBeGreaterThanOrEqual(
      WORKLOAD_IDS.length,
    );
    for (const r of json.rows) {
      const what = `${r.section} ${r.workload} ${r.driver} ${r.subject}`;
      expect(r.stats.samples.length, what).toBeGreaterThanOrEqual(2);
      expect(r.stats.mean, what).toBeGreaterThan(0);
      expect(Number.isFinite(r.stats.deviation), what).toBe(true);
      expect(r.bytes, what).toBeGreaterThan(0);
      expect(r.entries, what).toBeGreaterThan(0);
    }
  });

  it("writes the same layer from the same seed on every driver and with every differ", () => {
    for (const id of WORKLOAD_IDS) {
      const digests = new Set(json.layers.filter((l) => l.workload === id).map((l) => l.digest));
      expect(digests.size, id).toBe(1);
    }
  });

  it("writes a Markdown report with every section and numbers in each", () => {
    for (const heading of [
      "Issue 3 targets",
      ...SECTIONS.map((s) => SECTION_TITLES[s]),
      "Layers",
      "Drivers",
    ]) {
      expect(markdown).toContain(`## ${heading}\n`);
    }
    for (const section of SECTIONS) {
      const body = markdown.split(`## ${SECTION_TITLES[section]}\n`)[1]!.split("\n## ")[0]!;
      const rows = body
        .split("\n")
        .filter((l) => l.startsWith("| ") && !l.startsWith("| workload"));
      expect(rows.length, section).toBeGreaterThan(0);
      for (const r of rows)
        expect(r, section).toMatch(
          /\| [\d.]+ (µs|ms|s) \| [\d.]+% \| [\d.]+ (µs|ms|s) \| \d+ \| [\d,.]+ \| [\d,]+ \|/,
        );
    }
    // The targets are checked and shown, whatever the outcome (quick runs do not judge speed).
    expect(json.targets.length).toBeGreaterThan(0);
    for (const t of json.targets) expect(markdown).toContain(t.description);
  });
});
