import { fmtTime, interference, layerAgreement } from "./report.js";
import type { BenchResult, Row } from "./results.js";
import { UNION_FILESYSTEMS } from "./unions.js";

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
}

const mbps = (r: Row) => (r.bytes / r.stats.mean / 1e6).toFixed(1);
const perSec = (r: Row) => Math.round(r.entries / r.stats.mean).toLocaleString("en-US");
const ratio = (r: Row | undefined) => (r?.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`);

/**
 * The compact tables the README shows (`<report>-summary.md`): per driver and workload,
 * diff and commit (native differ where the driver has one) with their ratios to the
 * floors; apply; the mounted filesystems side by side; chains; save, load, pull, push;
 * the targets.
 */
export function renderReadmeSummary(res: BenchResult): string {
  const m = res.machine;
  const out: string[] = [];
  const noise = interference(res);
  out.push(
    `${res.mode === "full" ? "Full run" : "Quick run"} of ${res.startedAt.slice(0, 16).replace("T", " ")} UTC, strata ${m.revision}: ` +
      `${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Linux ${m.kernel}, ${m.scratchFilesystem}, Node ${m.node}; ` +
      `took ${res.seconds} s; load ${res.load.start.loadavg1} at the start, ${res.load.end.loadavg1} at the end` +
      `${noise.length > 0 ? ` (busy: ${noise.join("; ")})` : ""}.`,
    "",
  );
  const pick = (p: Partial<Row>) =>
    res.rows.find((r) =>
      Object.entries(p).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
    );

  // Diff and commit.
  const body: string[][] = [];
  for (const w of res.workloads) {
    if (w.id === "base" || w.id === "ten-files") continue;
    for (const d of res.drivers.filter((x) => x.available)) {
      const get = (section: "diff" | "commit") =>
        pick({ section, workload: w.id, driver: d.name, subject: "native" }) ??
        pick({ section, workload: w.id, driver: d.name, subject: "naive" });
      const diff = get("diff");
      const commit = get("commit");
      if (!diff && !commit) continue;
      body.push([
        w.id,
        d.name,
        commit?.subject ?? diff?.subject ?? "",
        diff ? perSec(diff) : "",
        ratio(diff),
        commit ? mbps(commit) : "",
        commit ? fmtTime(commit.stats.mean) : "",
        ratio(commit),
      ]);
    }
  }
  out.push(
    "Diff (the change list, entries/s, × `find`) and commit (layer + image record, MB/s of the layer, × `tar -c | sha256sum`):",
    "",
    table(
      [
        "workload",
        "driver",
        "differ",
        "diff entries/s",
        "× floor",
        "commit MB/s",
        "commit time",
        "× floor",
      ],
      body,
    ),
    "",
    layerAgreement(res),
    "",
  );

  const apply = res.rows.filter((r) => r.section === "apply" && !r.floor);
  if (apply.length > 0) {
    out.push(
      "Apply (MB/s, × `tar -x`):",
      "",
      table(
        ["layer", "driver", "MB/s", "× floor"],
        apply.map((r) => [r.workload, r.driver, mbps(r), ratio(r)]),
      ),
      "",
    );
  }

  const cli = res.rows.filter((r) => r.section === "commit-cli" && !r.floor);
  if (cli.length > 0) {
    out.push(
      "`strata commit` / `strata diff` as processes (small-files container):",
      "",
      table(
        ["driver", "command", "time", "× floor"],
        cli.map((r) => [r.driver, r.subject, fmtTime(r.stats.mean), ratio(r)]),
      ),
      "",
    );
  }

  const unions = UNION_FILESYSTEMS.filter((f) =>
    res.rows.some((r) => r.section === "mount" && r.driver === f),
  );
  if (unions.length > 0) {
    const ops = ["mount", "read", "write", "stat", "readdir", "create", "unlink"];
    const cell = (r: Row | undefined, op: string) => {
      if (!r) return "";
      if (op === "mount") return fmtTime(r.stats.mean);
      const v = op === "read" || op === "write" ? `${mbps(r)} MB/s` : `${perSec(r)}/s`;
      return `${v} (${ratio(r)})`;
    };
    out.push(
      "Mounted filesystems, fresh mount per sample, data underneath warm (× the same calls on the plain directory):",
      "",
      table(
        ["operation", ...unions, "plain directory", "aufs / fuse-overlayfs"],
        ops.map((op) => {
          const get = (f: string) => pick({ section: "mount", workload: op, driver: f });
          const floor = res.rows.find((r) => r.section === "mount" && r.workload === op && r.floor);
          const a = get("aufs");
          const f = get("fuse-overlayfs");
          const vs = a && f ? `${(f.stats.mean / a.stats.mean).toFixed(2)}×` : "";
          return [
            op,
            ...unions.map((u) => cell(get(u), op)),
            floor
              ? op === "read" || op === "write"
                ? `${mbps(floor)} MB/s`
                : `${perSec(floor)}/s`
              : "",
            vs,
          ];
        }),
      ),
      "",
    );
    const depths = [
      ...new Set(
        res.rows
          .filter((r) => r.section === "chain" && r.workload.startsWith("lookup, "))
          .map((r) => r.workload.slice("lookup, ".length)),
      ),
    ];
    out.push(
      "Deep chains: one lookup (µs) and the mount, by layers in the union:",
      "",
      table(
        ["layers", ...unions.map((u) => `${u} lookup`), ...unions.map((u) => `${u} mount`)],
        depths.map((d) => [
          d,
          ...unions.map((u) => {
            const r = pick({ section: "chain", workload: `lookup, ${d}`, driver: u });
            return r ? `${((r.stats.mean / r.entries) * 1e6).toFixed(1)} µs` : "";
          }),
          ...unions.map((u) => {
            const r = pick({ section: "chain", workload: `mount, ${d}`, driver: u });
            return r ? fmtTime(r.stats.mean) : "";
          }),
        ]),
      ),
      "",
    );
  }

  const moves = res.rows.filter(
    (r) => (r.section === "archive" || r.section === "registry") && !r.floor,
  );
  if (moves.length > 0) {
    out.push(
      "Save, load, pull, push:",
      "",
      table(
        ["operation", "bytes", "time", "MB/s", "floor", "× floor"],
        moves.map((r) => {
          const floor = res.rows.find(
            (x) => x.section === r.section && x.workload === r.workload && x.floor,
          );
          return [
            r.subject,
            `${(r.bytes / 1e6).toFixed(0)} MB`,
            fmtTime(r.stats.mean),
            mbps(r),
            floor?.subject ?? "",
            ratio(r),
          ];
        }),
      ),
      "",
    );
  }

  if (res.targets.length > 0) {
    out.push(
      "Targets:",
      "",
      table(
        ["issue", "target", "measured", "result"],
        res.targets.map((t) => [
          String(t.issue),
          t.description,
          t.measured,
          t.pass ? "met" : "**missed**",
        ]),
      ),
      "",
    );
  }
  return out.join("\n");
}
