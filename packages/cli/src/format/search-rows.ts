/**
 * `search` output as docker prints it: the table `NAME DESCRIPTION STARS OFFICIAL`
 * (docker 25 dropped AUTOMATED from the default), or a `--format` template over docker's
 * `searchContext` fields `.Name .Description .StarCount .IsOfficial .IsAutomated`.
 */
import type { SearchResult } from "@strata/core";
import { formatTable } from "./table-writer.js";

/** One result as `--format` templates see it. */
export interface SearchRow {
  Name: string;
  Description: string;
  StarCount: string;
  IsOfficial: string;
  IsAutomated: string;
}

/** docker's default search table. */
export const DEFAULT_SEARCH_TABLE =
  "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}";

const HEADER: Record<string, string> = {
  Name: "NAME",
  Description: "DESCRIPTION",
  StarCount: "STARS",
  IsOfficial: "OFFICIAL",
  IsAutomated: "AUTOMATED",
};

/**
 * The rows: descriptions on one line, cut to 45 characters with `…` unless `trunc` is
 * false; official and automated shown as `[OK]` or nothing, as docker's formatter does.
 */
export function searchRows(results: readonly SearchResult[], trunc: boolean): SearchRow[] {
  return results.map((r) => {
    let desc = r.description.replace(/\n/g, " ");
    if (trunc && [...desc].length > 45) desc = `${[...desc].slice(0, 44).join("")}…`;
    return {
      Name: r.name,
      Description: desc,
      StarCount: String(r.star_count),
      IsOfficial: r.is_official ? "[OK]" : "",
      IsAutomated: r.is_automated ? "[OK]" : "",
    };
  });
}

/**
 * Render rows with `format` (empty: the default table; `table TEMPLATE`: a table of the
 * template; otherwise one line per row).
 * @throws InvalidArgumentError `template parsing error: …` for a bad template.
 */
export async function searchTable(rows: readonly SearchRow[], format: string): Promise<string> {
  const {
    GoTemplate,
    GoTemplateError,
    InvalidArgumentError,
    goMap,
    goStruct,
    DOCKER_HEADER_FUNCS,
  } = await import("@strata/core");
  const source = format === "" || format === "table" ? DEFAULT_SEARCH_TABLE : format;
  const table = source.startsWith("table");
  const text = (table ? source.slice(5) : source)
    .replace(/^ +| +$/g, "")
    .replaceAll("\\t", "\t")
    .replaceAll("\\n", "\n");
  try {
    const tmpl = GoTemplate.parse(text);
    const body = rows.map(
      (r) => `${tmpl.execute(goStruct({ ...r }, "formatter.searchContext"))}\n`,
    );
    if (!table) return body.join("");
    let header = "";
    try {
      header = tmpl.execute(goMap({ ...HEADER }, "formatter.SubHeaderContext", "string"), {
        funcs: DOCKER_HEADER_FUNCS,
      });
    } catch {
      header = "";
    }
    const lines = `${header}\n${body.join("")}`.split("\n");
    lines.pop();
    return formatTable(lines.map((l) => l.split("\t")));
  } catch (err) {
    if (err instanceof GoTemplateError) {
      throw new InvalidArgumentError(`template parsing error: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
