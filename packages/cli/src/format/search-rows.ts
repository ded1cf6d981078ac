/**
 * `search` output as docker prints it: the table `NAME DESCRIPTION STARS OFFICIAL`
 * (docker 25 dropped AUTOMATED from the default), or a `--format` template over docker's
 * `searchContext` fields `.Name .Description .StarCount .IsOfficial .IsAutomated`.
 */
import type { SearchResult } from "@strata/core";
import { goStructOf } from "./struct.js";
import { renderFormat } from "./template-format.js";

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
 * Render rows with `format` (empty or `table`: the default table; `table TEMPLATE`, `json`
 * or a template: as every `--format` of strata, through {@link renderFormat}).
 * @throws TemplateFormatError `template parsing error: …` for a bad template.
 */
export function searchTable(rows: readonly SearchRow[], format: string): Promise<string> {
  return renderFormat({
    format: format === "" || format === "table" ? DEFAULT_SEARCH_TABLE : format,
    rows: rows.map((r) => goStructOf("formatter.searchContext", { ...r })),
    header: HEADER,
  });
}
