/**
 * docker's `formatter.Context`: how a `--format` value renders a list of rows.
 *
 * - `table` (or empty): the command's default table.
 * - `table <template>`: the template per row, laid out in columns (Go's tabwriter with
 *   docker's settings) under a header made by running the template over the column names
 *   with docker's header functions (`{{.ID}}` → `IMAGE ID`, `{{.Name | upper}}` → `NAME`).
 * - `json`: one JSON object per row (`{{json .}}`).
 * - anything else: the template per row, one line each.
 *
 * As docker does, the two-character sequences `\t` and `\n` in a format become a tab and a
 * newline, and surrounding spaces are trimmed. Bad templates fail with docker's
 * `template parsing error: …`.
 */
import type { FuncMap, GoTemplate } from "@strata/core";
import { formatTable } from "./table-writer.js";

/** A format that did not parse or failed on a row: docker's `template parsing error: …`. */
export class TemplateFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`template parsing error: ${message}`, options);
    this.name = "TemplateFormatError";
  }
}

/** docker's `Format.IsTable`. */
export function isTableFormat(format: string): boolean {
  return format.startsWith("table");
}

/** docker's `preFormat`: the template text a format stands for. */
export function templateText(format: string): string {
  let text = format;
  if (isTableFormat(format)) text = format.slice("table".length);
  else if (format === "json") text = "{{json .}}";
  text = text.replace(/^ +| +$/g, "");
  return text.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
}

/**
 * Parse a format's template.
 * @throws TemplateFormatError for a template Go would refuse.
 */
export async function parseFormat(format: string): Promise<GoTemplate> {
  const { GoTemplate, GoTemplateError } = await import("@strata/core");
  try {
    return GoTemplate.parse(templateText(format));
  } catch (err) {
    if (err instanceof GoTemplateError) throw new TemplateFormatError(err.message, { cause: err });
    throw err;
  }
}

/** What {@link renderFormat} renders. */
export interface RenderOptions {
  /** The `--format` value (already defaulted: `table …`, `json`, or a template). */
  format: string;
  /** One value per row (docker's sub-contexts, made with `goStruct`). */
  rows: readonly unknown[];
  /** Column names by field, for a table's header row (docker's `SubHeaderContext`). */
  header: Readonly<Record<string, string>>;
}

/**
 * Render rows the way docker's `formatter.Context.Write` does.
 * @throws TemplateFormatError when the template does not parse or fails on a row.
 */
export async function renderFormat(opts: RenderOptions): Promise<string> {
  const core = await import("@strata/core");
  const tmpl = await parseFormat(opts.format);
  let body = "";
  for (const row of opts.rows) {
    try {
      body += `${tmpl.execute(row)}\n`;
    } catch (err) {
      if (err instanceof core.GoTemplateError) {
        throw new TemplateFormatError(err.message, { cause: err });
      }
      throw err;
    }
  }
  if (!isTableFormat(opts.format)) return body;
  const header = headerRow(
    tmpl,
    core.goMap({ ...opts.header }, "formatter.SubHeaderContext", "string"),
    core.DOCKER_HEADER_FUNCS,
  );
  return tabulate(`${header}\n${body}`);
}

/**
 * The header row. Like docker, which ignores the header's execution error, a template
 * that fails on the header (`{{.Label "k"}}`) keeps what it printed before failing.
 */
function headerRow(tmpl: GoTemplate, header: unknown, funcs: FuncMap): string {
  try {
    return tmpl.execute(header, { funcs });
  } catch (err) {
    return (err as { partial?: string }).partial ?? "";
  }
}

/** Lay out tab-separated lines as docker's tabwriter does (`minwidth 10, padding 3`). */
export function tabulate(text: string): string {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return formatTable(lines.map((l) => l.split("\t")));
}
