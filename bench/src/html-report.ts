import { fmtTime, interference, SECTION_NOTES } from "./report.js";
import { type BenchResult, type Row, SECTION_TITLES, SECTIONS } from "./results.js";

/** Bar colours by driver or filesystem; anything else (tools, `-`) is grey. */
const COLOURS: Record<string, string> = {
  vfs: "#9c755f",
  overlay: "#4e79a7",
  aufs: "#e15759",
  "fuse-overlayfs": "#59a14f",
};

function esc(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Escape `s` and render its Markdown `code` and **bold** spans (the section notes use them). */
function inline(s: string): string {
  return esc(s)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>");
}

interface Bar {
  group: string;
  label: string;
  value: number;
  text: string;
  colour: string;
}

const LABEL_W = 260;
const BAR_W = 520;
const ROW_H = 18;
const GROUP_GAP = 10;

/**
 * A horizontal bar chart as inline SVG: bars grouped (by workload), each labelled, with a
 * dashed reference line at `reference` (1.00× floor) when given.
 */
export function barChart(bars: readonly Bar[], reference?: number, unit = ""): string {
  if (bars.length === 0) return "";
  const max = Math.max(...bars.map((b) => b.value), reference ?? 0) * 1.08 || 1;
  const x = (v: number) => LABEL_W + (v / max) * BAR_W;
  const parts: string[] = [];
  let y = 6;
  let group = "";
  for (const b of bars) {
    if (b.group !== group) {
      if (group !== "") y += GROUP_GAP;
      group = b.group;
      parts.push(`<text x="4" y="${y + 12}" class="g">${esc(b.group)}</text>`);
      y += ROW_H;
    }
    const w = Math.max(1, x(b.value) - LABEL_W);
    parts.push(
      `<text x="${LABEL_W - 6}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${LABEL_W}" y="${y + 2}" width="${w.toFixed(1)}" height="${ROW_H - 5}" fill="${b.colour}"><title>${esc(`${b.group} ${b.label}: ${b.text}`)}</title></rect>`,
      `<text x="${(LABEL_W + w + 4).toFixed(1)}" y="${y + 12}">${esc(b.text)}</text>`,
    );
    y += ROW_H;
  }
  const height = y + 8;
  if (reference !== undefined) {
    const rx = x(reference).toFixed(1);
    parts.push(
      `<line x1="${rx}" y1="2" x2="${rx}" y2="${height - 4}" stroke="#333" stroke-dasharray="4 3"/>`,
      `<text x="${rx}" y="${height}" text-anchor="middle" class="ref">${reference.toFixed(2)}${unit}</text>`,
    );
  }
  const width = LABEL_W + BAR_W + 110;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 6}" viewBox="0 0 ${width} ${height + 6}" role="img">${parts.join("")}</svg>`;
}

/** Bars of ratio to floor for a section's measured rows (floors themselves are the 1.00× line). */
function ratioBars(rows: readonly Row[]): Bar[] {
  return rows
    .filter((r) => !r.floor && r.ratio !== undefined)
    .map((r) => ({
      group: r.workload,
      label: r.driver === "-" ? r.subject : `${r.driver} · ${r.subject}`,
      value: r.ratio!,
      text: `${r.ratio!.toFixed(2)}× (${fmtTime(r.stats.mean)})`,
      colour: COLOURS[r.driver] ?? "#888",
    }));
}

/** Bars of mean time for rows with no floor (mount times). */
function timeBars(rows: readonly Row[]): Bar[] {
  return rows
    .filter((r) => !r.floor && r.ratio === undefined)
    .map((r) => ({
      group: r.workload,
      label: r.driver === "-" ? r.subject : `${r.driver} · ${r.subject}`,
      value: r.stats.mean * 1000,
      text: fmtTime(r.stats.mean),
      colour: COLOURS[r.driver] ?? "#888",
    }));
}

function table(rows: readonly Row[]): string {
  const head = [
    "workload",
    "driver",
    "subject",
    "mean",
    "±",
    "median",
    "n",
    "MB/s",
    "entries/s",
    "× floor",
  ];
  const body = rows.map((r) => {
    const cells = [
      r.workload,
      r.driver,
      r.floor ? `${r.subject} (floor)` : r.subject,
      fmtTime(r.stats.mean),
      `${r.stats.rme.toFixed(1)}%`,
      fmtTime(r.stats.median),
      String(r.stats.samples.length),
      (r.bytes / r.stats.mean / 1e6).toFixed(1),
      Math.round(r.entries / r.stats.mean).toLocaleString("en-US"),
      r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    ];
    return `<tr${r.floor ? ' class="floor"' : ""}>${cells.map((c, i) => `<td${i >= 3 ? ' class="n"' : ""}>${esc(c)}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

/**
 * The report as one self-contained HTML page (no scripts, no external files): the run's
 * machine and load, the targets, and per section a bar chart of each result's ratio to
 * its floor (bars per driver per workload; the dashed line is the floor, 1.00×), mount
 * times as times, and the section's table.
 */
export function renderHtml(res: BenchResult): string {
  const m = res.machine;
  const out: string[] = [];
  out.push(
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>strata bench ${esc(res.startedAt.slice(0, 10))} on ${esc(m.host)}</title>`,
    "<style>",
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;background:#fff}",
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}",
    "table{border-collapse:collapse;margin:8px 0 16px;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px}",
    "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.floor td{color:#666}",
    "svg text{font:11px system-ui,sans-serif;fill:#222}svg text.g{font-weight:600}svg text.ref{fill:#555}",
    ".busy{background:#fff4d6;border:1px solid #e0c060;padding:8px}.met{color:#1a7f37}.missed{color:#c62828;font-weight:600}",
    ".legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}",
    "</style></head><body>",
    `<h1>strata bench: ${esc(res.startedAt.slice(0, 10))} on ${esc(m.host)}</h1>`,
    `<p>${res.mode === "quick" ? "<b>Quick run</b> (small sizes: checks that everything runs, says nothing about speed)" : "Full run"}, seed ${res.seed}, ${m.cores} × ${esc(m.cpu)}, ${m.memoryGiB} GiB, Linux ${esc(m.kernel)}, ${esc(m.scratchFilesystem)}, Node ${esc(m.node)}, strata ${esc(m.revision)}; took ${res.seconds} s; load ${res.load.start.loadavg1} at the start, ${res.load.end.loadavg1} at the end.</p>`,
  );
  const noise = interference(res);
  if (noise.length > 0) {
    out.push(
      `<p class="busy">The machine was busy during this run (${esc(noise.join("; "))}): absolute times are unreliable; ratios to floors, measured side by side, less so.</p>`,
    );
  }
  out.push(
    '<p class="legend">',
    ...Object.entries(COLOURS).map(
      ([k, c]) => `<span><i style="background:${c}"></i>${esc(k)}</span>`,
    ),
    '<span><i style="background:#888"></i>no driver</span></p>',
    "<p>Bars: each result's speed as a ratio to its floor, measured next to it (the floor's time over strata's; the dashed line at 1.00× is as fast as the machine's own tool; longer is better).</p>",
  );
  out.push("<h2>Targets</h2>");
  if (res.targets.length === 0) out.push("<p>No target could be checked in this run.</p>");
  else {
    out.push(
      `<table><thead><tr><th>issue</th><th>target</th><th>measured</th><th>result</th></tr></thead><tbody>${res.targets
        .map(
          (t) =>
            `<tr><td>${t.issue}</td><td>${esc(t.description)}</td><td>${esc(t.measured)}</td><td class="${t.pass ? "met" : "missed"}">${t.pass ? "met" : "missed"}</td></tr>`,
        )
        .join("")}</tbody></table>`,
    );
  }
  if (res.skipped.length > 0) {
    out.push(
      `<p>Not measured here:</p><ul>${res.skipped.map((k) => `<li>${esc(SECTION_TITLES[k.section])}: ${esc(k.what)}: ${esc(k.reason)}</li>`).join("")}</ul>`,
    );
  }
  for (const section of SECTIONS) {
    const rows = res.rows.filter((r) => r.section === section);
    out.push(
      `<h2>${esc(SECTION_TITLES[section])}</h2>`,
      `<p>${inline(SECTION_NOTES[section])}</p>`,
    );
    if (rows.length === 0) {
      out.push("<p>Not measured in this run.</p>");
      continue;
    }
    out.push(barChart(ratioBars(rows), 1, "× floor"));
    const times = timeBars(rows);
    if (times.length > 0) {
      out.push("<p>Without a floor (time, shorter is better):</p>", barChart(times));
    }
    out.push(table(rows));
  }
  out.push("</body></html>");
  return `${out.join("\n")}\n`;
}
