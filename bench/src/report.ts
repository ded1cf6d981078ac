import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Load } from "./machine.js";
import { type BenchResult, type Row, SECTION_TITLES, SECTIONS, type Section } from "./results.js";

/** What each section measures, shown under its heading. */
export const SECTION_NOTES: Record<Section, string> = {
  diff:
    "The change list `strata diff` prints: the differ's changes (overlay and aufs: their " +
    "upper directory or writable branch; naive: both trees walked and compared), each path " +
    "looked up in the lower tree to tell A from C. Beside `find` over the tree the differ " +
    "has to walk (the upper directory or branch; for vfs the container's whole tree). " +
    "entries/s is changes listed per second (issue 4's target: 50,000 or more).",
  commit:
    "What `strata commit` does once it has the container: the change's layer written into " +
    "the content store (walk or upper-dir read, tar, sha256, blob write with fsync) and the " +
    "new image recorded (config, history, metadata database), beside GNU " +
    "`tar -c <upper> | sha256sum` of the same upper tree: overlay's upper directory or aufs' " +
    "writable branch itself; for vfs, the layer's entries read from the container's tree " +
    "(`tar --no-recursion -T`).",
  "commit-cli":
    "`strata commit` and `strata diff` run as processes (`node packages/cli/bin/strata.js`), " +
    "start-up, store lock and database included, on a container created from the base " +
    "image with the small-files tree copied in by `strata cp`. Compare with the in-process " +
    "commit of the same change above: the difference is what a process costs.",
  apply:
    "Unpacking one layer (from the content store, verified) into an empty snapshot, beside " +
    "GNU `tar -x` of the same layer blob into an empty directory on the same filesystem. " +
    "Issue 3's target: 0.80× or better.",
  proportional:
    "A 10-file change on the whole base image, its layer written: the native differs read " +
    "only the upper directory or branch, so their time follows the change; the naive " +
    "differ walks both trees.",
  mount:
    "Kernel overlay, strata's aufs (a FUSE helper process serves each union) and " +
    "fuse-overlayfs, each mounted afresh for every sample over the same two layers (the " +
    "large files over the base image) with an empty upper. Rows: mount time; `cat` of the " +
    "large files to /dev/null (sequential read); `lstat` of every base file (first " +
    "lookups); `readdir` of every base directory; unlink of lower files (whiteouts); " +
    "creation of empty files; one large file written and fsynced. Floors: the same calls " +
    "on the plain directories underneath. Caches are **warm** for the data underneath " +
    "(every filesystem and floor reads files already in the page cache) and cold for each " +
    "union's own caches (fresh mount). entries/s is operations per second.",
  chain:
    "Chains of 1, 10 and 100 layers: lookups (`lstat`) of files only the bottom layer " +
    "holds, in a directory every layer has, so each lookup passes every layer above; each " +
    "sample on a fresh mount. Floor: the same `lstat`s on the bottom layer's directory.",
  archive:
    "`save` of an image (the base image and the large files) into a file, beside GNU " +
    "`tar -cf FILE` of the same blobs; `load` of that archive into a fresh store (every " +
    "blob verified and written), beside `sha256sum` of the archive. Issue 6's targets: " +
    "0.80× or better for both.",
  registry:
    "Against the real registry server (`docker-registry`) on loopback: pull of an image " +
    "with one gzip layer (a tar of this machine's /usr files) into a fresh store, beside " +
    "`skopeo copy` of the same image into an OCI directory; push of the uncompressed layer " +
    "(strata gzips it) beside `pigz -6` compressing the same tar. MB/s is of the tar.",
  hash:
    "`sha256sum` of each layer blob: the ceiling for any step that must hash the layer's " +
    "bytes (diff and apply both do).",
};

/** Format seconds as µs, ms or s with three significant figures or so. */
export function fmtTime(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

function fmtNum(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function mbps(r: Row): number {
  return r.bytes / r.stats.mean / 1e6;
}

function entriesPerSec(r: Row): number {
  return r.entries / r.stats.mean;
}

function fmtRatio(r: Row): string {
  if (r.ratio === undefined) return "";
  return `${r.ratio.toFixed(2)}×${r.ratioRme === undefined ? "" : ` ±${r.ratioRme.toFixed(0)}%`}`;
}

/** Columns every table shares, after its own leading ones. */
const MEASURE_HEADER = [
  "mean",
  "±",
  "median",
  "n",
  "MB/s",
  "entries/s",
  "× floor",
  "× floor (median)",
];

function measureCells(r: Row): string[] {
  return [
    fmtTime(r.stats.mean),
    `${r.stats.rme.toFixed(1)}%`,
    fmtTime(r.stats.median),
    String(r.stats.samples.length),
    fmtNum(mbps(r), 1),
    fmtNum(entriesPerSec(r)),
    fmtRatio(r),
    r.ratioMedian === undefined ? "" : `${r.ratioMedian.toFixed(2)}×`,
  ];
}

function fmtLoad(l: Load): string {
  const psi = [
    l.cpuPressure60 === undefined ? "" : `cpu ${l.cpuPressure60}%`,
    l.ioPressure60 === undefined ? "" : `io ${l.ioPressure60}%`,
  ].filter(Boolean);
  return `load ${l.loadavg1}${psi.length > 0 ? ` (waiting: ${psi.join(", ")})` : ""}`;
}

/**
 * What else ran on the machine during the run, as far as it can be told: load above the core
 * count, more than 25% of the time waiting for CPU or I/O, the page cache dropped by some
 * process. Empty when the run looks clean.
 */
export function interference(res: BenchResult): string[] {
  const out: string[] = [];
  const { start, end } = res.load;
  const load = Math.max(start.loadavg1, end.loadavg1);
  if (load > res.machine.cores) out.push(`load up to ${load} on ${res.machine.cores} cores`);
  const cpu = Math.max(start.cpuPressure60 ?? 0, end.cpuPressure60 ?? 0);
  if (cpu > 25) out.push(`tasks waited for a CPU ${cpu}% of the time`);
  const io = Math.max(start.ioPressure60 ?? 0, end.ioPressure60 ?? 0);
  if (io > 25) out.push(`tasks waited for I/O ${io}% of the time`);
  const drops = (end.dropCaches ?? 0) - (start.dropCaches ?? 0);
  if (drops > 0) out.push(`another process dropped the page cache ${drops} times`);
  return out;
}

function subjectLabel(r: Row): string {
  return `${r.floor ? `${r.subject} (floor)` : r.subject}${r.stats.dropCaches ? " †" : ""}`;
}

/** The note under a table whose rows another process disturbed. */
function droppedNote(rows: readonly Row[]): string | undefined {
  const hit = rows.filter((r) => r.stats.dropCaches);
  if (hit.length === 0) return undefined;
  return (
    "† Another process dropped the page cache while this row was measured (" +
    hit.map((r) => `${r.workload} ${r.driver} ${r.subject}: ${r.stats.dropCaches}×`).join(", ") +
    "); its samples include stalls that are not strata's."
  );
}

function mdEscape(s: string): string {
  return s.replaceAll("|", "\\|");
}

function mdTable(header: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(mdEscape).join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...body.map(line)].join("\n");
}

/**
 * Whether every driver and differ wrote the same layer for each workload (same seed, same
 * bytes), or which ones wrote another (the digest most of them wrote counts as the
 * reference). A difference is a bug, not noise.
 */
export function layerAgreement(res: BenchResult): string {
  const byWorkload = new Map<string, typeof res.layers>();
  for (const l of res.layers)
    byWorkload.set(l.workload, [...(byWorkload.get(l.workload) ?? []), l]);
  const odd: string[] = [];
  for (const [w, layers] of byWorkload) {
    const count = new Map<string, number>();
    for (const l of layers) count.set(l.digest, (count.get(l.digest) ?? 0) + 1);
    if (count.size < 2) continue;
    const common = [...count].sort((a, b) => b[1] - a[1])[0]![0];
    const who = layers.filter((l) => l.digest !== common).map((l) => `${l.driver}/${l.differ}`);
    odd.push(`${w} (${who.join(", ")})`);
  }
  return odd.length === 0
    ? "Every driver and differ wrote byte-identical layers for each workload (same seed, same bytes)."
    : `**Layers differ** from what the other drivers and differs wrote for the same change: ${odd.join("; ")}. A difference is a bug, not noise.`;
}

/** The report as Markdown: targets, one table per section, layers, drivers, machine. */
export function renderMarkdown(res: BenchResult): string {
  const m = res.machine;
  const titles = new Map(res.workloads.map((w) => [w.id, w.title]));
  const out: string[] = [];
  out.push(`# strata bench: ${res.startedAt.slice(0, 10)} on ${m.host}`);
  out.push("");
  out.push(
    `${res.mode === "quick" ? "**Quick run** (small sizes: checks that everything runs, says nothing about speed)" : "Full run"}, ` +
      `seed ${res.seed}, ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Linux ${m.kernel}, ` +
      `${m.scratchFilesystem}, Node ${m.node}, strata ${m.revision}; took ${res.seconds} s; ` +
      `${fmtLoad(res.load.start)} at the start, ${fmtLoad(res.load.end)} at the end.`,
  );
  out.push("");
  const noise = interference(res);
  if (noise.length > 0) {
    out.push(
      `> **The machine was busy during this run** (${noise.join("; ")}): absolute times and ` +
        "MB/s are unreliable, means more than medians; ratios to floors, measured side by " +
        "side, less so.",
    );
    out.push("");
  }
  out.push(
    "Times are benchmark.js means over *n* samples of one operation each (± is the relative " +
      "margin of error at 95% confidence), and the median sample. MB/s is the uncompressed layer's bytes over the mean " +
      "time (1 MB = 10⁶ bytes), entries/s its tar entries over the mean time; a floor row uses " +
      "the same layer's bytes and entries. **× floor** is the floor's time over strata's time: " +
      "1.00× is as fast as the machine's own tool, 0.50× twice its time; higher is better; " +
      "its ± combines both rows' margins of error; **× floor (median)** is the same from the " +
      "medians.",
  );
  out.push("");

  out.push("## Targets");
  out.push("");
  if (res.targets.length === 0) out.push("No target could be checked in this run.");
  else
    out.push(
      mdTable(
        ["issue", "target", "measured", "result"],
        res.targets.map((t) => [
          String(t.issue),
          t.description,
          t.measured,
          t.pass ? "met" : "**missed**",
        ]),
      ),
    );
  out.push("");
  if (res.mode === "quick") {
    out.push("A quick run's sizes are too small for the targets to mean anything.");
    out.push("");
  }
  if (res.skipped.length > 0) {
    out.push("Not measured here:");
    out.push("");
    for (const k of res.skipped) out.push(`- ${SECTION_TITLES[k.section]}: ${k.what}: ${k.reason}`);
    out.push("");
  }

  for (const section of SECTIONS) {
    out.push(`## ${SECTION_TITLES[section]}`);
    out.push("");
    out.push(SECTION_NOTES[section]);
    out.push("");
    const rows = res.rows.filter((r) => r.section === section);
    if (rows.length === 0) {
      out.push("Not measured in this run.");
      out.push("");
      continue;
    }
    const body = rows.map((r) => [
      `${r.workload}${titles.has(r.workload) ? ` (${titles.get(r.workload)})` : ""}`,
      r.driver,
      subjectLabel(r),
      ...measureCells(r),
    ]);
    out.push(mdTable(["workload", "driver", "subject", ...MEASURE_HEADER], body));
    out.push("");
    const note = droppedNote(rows);
    if (note) {
      out.push(note);
      out.push("");
    }
  }

  const profiled = res.rows.filter((r) => r.profile);
  if (profiled.length > 0) {
    out.push("## Where the time goes");
    out.push("");
    out.push(
      "With `--profile`, each strata operation ran once more under V8's CPU profiler. Self " +
        "time per function; `(idle)` is the event loop waiting (thread-pool I/O, child " +
        "processes), native frames such as `writeBuffer` or `lstat` are synchronous system calls.",
    );
    out.push("");
    for (const r of profiled) {
      const p = r.profile!;
      out.push(
        `### ${r.section} ${r.workload} on ${r.driver}, ${r.subject} (${fmtTime(p.totalMs / 1000)} profiled)`,
      );
      out.push("");
      out.push(`\`${path.basename(p.file)}\``);
      out.push("");
      out.push(
        mdTable(
          ["function", "self", "%"],
          p.top.map((h) => [`\`${h.frame}\``, fmtTime(h.selfMs / 1000), `${h.percent}%`]),
        ),
      );
      out.push("");
    }
  }

  out.push("## Layers");
  out.push("");
  out.push(
    mdTable(
      ["workload", "driver", "differ", "digest", "bytes", "entries"],
      res.layers.map((l) => [
        l.workload,
        l.driver,
        l.differ,
        l.digest.slice(0, 19),
        fmtNum(l.size),
        fmtNum(l.entries),
      ]),
    ),
  );
  out.push("");
  out.push(layerAgreement(res));
  out.push("");

  out.push("## Drivers");
  out.push("");
  for (const d of res.drivers) {
    const notes = d.notes.length > 0 ? ` (${d.notes.join("; ")})` : "";
    out.push(d.available ? `- ${d.name}: measured${notes}` : `- ${d.name}: skipped: ${d.reason}`);
  }
  out.push("");

  out.push("## Machine and parameters");
  out.push("");
  out.push(
    mdTable(
      ["", ""],
      [
        ["host", m.host],
        ["cpu", `${m.cores} × ${m.cpu}`],
        ["memory", `${m.memoryGiB} GiB`],
        ["kernel", m.kernel],
        ["os", m.os],
        ["node", m.node],
        ["scratch filesystem", m.scratchFilesystem],
        ["tar", m.tar],
        ["sha256sum", m.sha256sum],
        ...Object.entries(m.tools ?? {}).map(([k, v]) => [k, v]),
        ["strata revision", m.revision],
        ...Object.entries(m.packages).map(([k, v]) => [k, v]),
        ["mode, seed", `${res.mode}, ${res.seed}`],
        [
          "sampling",
          `at least ${res.sampling.minSamples} samples and ${res.sampling.maxTime} s each`,
        ],
        ["sizes", JSON.stringify(res.sizes)],
      ],
    ),
  );
  out.push("");
  return out.join("\n");
}

/** A plain-text table of every row and the targets, for the terminal. */
export function renderSummary(res: BenchResult): string {
  const header = ["section", "workload", "driver", "subject", ...MEASURE_HEADER];
  const body = res.rows.map((r) => [
    r.section,
    r.workload,
    r.driver,
    subjectLabel(r),
    ...measureCells(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = new Set(MEASURE_HEADER.map((_, i) => i + 4));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const lines = [line(header), ...body.map(line), ""];
  for (const t of res.targets)
    lines.push(
      `${t.pass ? "met   " : "MISSED"}  issue ${t.issue}: ${t.description}: ${t.measured}`,
    );
  for (const k of res.skipped) lines.push(`skipped ${k.section} ${k.what}: ${k.reason}`);
  const noise = interference(res);
  if (noise.length > 0) {
    lines.push(`busy machine (${noise.join("; ")}): trust ratios and medians over means`);
  }
  return lines.join("\n");
}

/** A report's file name without extension: `<date>-<host>[-quick]`. */
export function reportBaseName(startedAt: string, host: string, mode: "full" | "quick"): string {
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${startedAt.slice(0, 10)}-${safeHost}${mode === "quick" ? "-quick" : ""}`;
}

/** Write `<date>-<host>[-quick].md` and `.json` into `dir`; returns both paths. */
export async function writeReport(
  res: BenchResult,
  dir: string,
): Promise<{ markdown: string; json: string }> {
  await fs.mkdir(dir, { recursive: true });
  const base = path.join(dir, reportBaseName(res.startedAt, res.machine.host, res.mode));
  const markdown = `${base}.md`;
  const json = `${base}.json`;
  await fs.writeFile(markdown, renderMarkdown(res));
  await fs.writeFile(json, `${JSON.stringify(res, null, 2)}\n`);
  return { markdown, json };
}
