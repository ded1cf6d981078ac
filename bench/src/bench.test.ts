import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBenchArgs } from "./args.js";
import { type BenchRun, runBench } from "./bench.js";
import { DRIVER_NAMES } from "./drivers.js";
import { type BenchResult, SECTION_TITLES, SECTIONS } from "./results.js";
import { inspectPng, screenshot } from "./screenshot.js";
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
    run = await runBench({ ...opts, log: (l) => log.push(l), removeInBackground: true });
    markdown = await fs.readFile(run.markdown, "utf8");
    json = JSON.parse(await fs.readFile(run.json, "utf8")) as BenchResult;
  }, 300_000);

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("names the report <date>-<host>-quick and hands its scratch directory to rm", async () => {
    expect(path.basename(run.markdown)).toMatch(/^\d{4}-\d{2}-\d{2}-.+-quick\.md$/);
    expect(path.basename(run.json)).toBe(path.basename(run.markdown).replace(/\.md$/, ".json"));
    // The scratch directory is renamed to strata-bench-trash-* and removed in the background.
    const left = (await fs.readdir(dir)).filter(
      (n) => n.startsWith("strata-bench-") && !n.startsWith("strata-bench-trash-"),
    );
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
        const sections =
          id === "ten-files"
            ? { proportional: "tar -c | sha256sum" }
            : { commit: "tar -c | sha256sum", diff: "find" };
        for (const [section, floor] of Object.entries(sections)) {
          const what = `${section} ${driver} ${id}`;
          const rows = json.rows.filter(
            (r) => r.section === section && r.driver === driver && r.workload === id,
          );
          const subjects = rows.map((r) => r.subject);
          expect(subjects, what).toContain(floor);
          // The naive fallback of overlay (quick runs) and aufs (always; commits only) runs
          // on small-files only; vfs has no other differ.
          const naive =
            driver === "vfs" ||
            (id === "small-files" && (driver !== "aufs" || section === "commit"));
          if (naive) expect(subjects, what).toContain("naive");
          if (driver !== "vfs") expect(subjects, what).toContain("native");
          for (const r of rows.filter((x) => !x.floor))
            expect(r.ratio, `${what} ${r.subject}`).toBeGreaterThan(0);
        }
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
      // Metadata operations and mounts move no bytes; everything counts its operations.
      if (r.section !== "mount" && r.section !== "chain") expect(r.bytes, what).toBeGreaterThan(0);
      expect(r.entries, what).toBeGreaterThan(0);
    }
  });

  it("runs strata commit and diff as processes on every driver", () => {
    const drivers = json.drivers.filter((d) => d.available).map((d) => d.name);
    for (const driver of drivers) {
      const subjects = json.rows
        .filter((r) => r.section === "commit-cli" && r.driver === driver)
        .map((r) => r.subject);
      expect(subjects.sort(), driver).toEqual([
        "strata commit",
        "strata diff",
        "tar -c | sha256sum",
      ]);
    }
  });

  it("measures every union filesystem, op and chain depth (as root)", () => {
    if (!asRoot && process.env.CI !== "true") {
      // Not root: mounting is impossible, and the report must say so.
      expect(json.skipped.some((k) => k.section === "mount")).toBe(true);
      return;
    }
    for (const fsName of ["overlay", "aufs", "fuse-overlayfs"]) {
      const ops = json.rows
        .filter((r) => r.section === "mount" && r.driver === fsName)
        .map((r) => r.workload);
      expect(ops.sort(), fsName).toEqual([
        "create",
        "mount",
        "read",
        "readdir",
        "stat",
        "unlink",
        "write",
      ]);
      const chains = json.rows
        .filter((r) => r.section === "chain" && r.driver === fsName)
        .map((r) => r.workload);
      for (const depth of ["1 layer", "10 layers", "100 layers"]) {
        expect(chains, fsName).toContain(`lookup, ${depth}`);
        expect(chains, fsName).toContain(`mount, ${depth}`);
      }
    }
    const floors = json.rows.filter((r) => r.section === "mount" && r.floor).map((r) => r.workload);
    expect(floors.sort()).toEqual(["create", "read", "readdir", "stat", "unlink", "write"]);
  });

  it("measures save, load, pull and push, each beside its floor", () => {
    for (const op of ["save", "load"]) {
      const rows = json.rows.filter((r) => r.section === "archive" && r.workload === op);
      expect(rows.map((r) => r.floor).sort(), op).toEqual([false, true]);
    }
    const registry = json.rows.filter((r) => r.section === "registry");
    expect(registry.map((r) => `${r.workload}${r.floor ? " floor" : ""}`).sort()).toEqual([
      "pull",
      "pull floor",
      "push",
      "push floor",
    ]);
    for (const issue of [3, 4, 5, 6, 8]) {
      expect(
        json.targets.some((t) => t.issue === issue),
        `issue ${issue}`,
      ).toBe(true);
    }
  });

  it("writes an HTML report that headless Chromium renders as a page with charts", async () => {
    const html = await fs.readFile(run.html, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(SECTIONS.length);
    const png = path.join(dir, "report.png");
    await screenshot(run.html, png, { width: 1200, height: 2400 });
    const info = await inspectPng(png);
    expect([info.width, info.height]).toEqual([1200, 2400]);
    // A page with text, tables and coloured bars: many colours, much of it not background.
    expect(info.colours).toBeGreaterThan(50);
    expect(info.inked).toBeGreaterThan(0.02);
  }, 90_000);

  it("writes the same layer from the same seed on every driver and with every differ", () => {
    for (const id of WORKLOAD_IDS) {
      const layers = json.layers.filter((l) => l.workload === id);
      const seen = layers.map((l) => `${l.driver}/${l.differ} ${l.digest.slice(7, 19)}`);
      expect(new Set(layers.map((l) => l.digest)).size, `${id}: ${seen.join(", ")}`).toBe(1);
    }
  });

  it("writes a Markdown report with every section and numbers in each", () => {
    for (const heading of [
      "Targets",
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
    for (const t of json.targets) expect(markdown).toContain(t.description.replaceAll("|", "\\|"));
  });
});
