import { Command, Option, UsageError } from "clipanion";
import { searchRows, searchTable } from "../../format/search-rows.js";
import { StrataCommand } from "../strata-command.js";

/** `strata search [OPTIONS] TERM`: search a registry for images. */
export class SearchCommand extends StrataCommand {
  static override paths = [["search"]];

  static override usage = Command.Usage({
    category: "Registries",
    description: "Search Docker Hub for images",
    details: `
      Searches Docker Hub, or the registry TERM starts with (\`127.0.0.1:5000/busy\`).
      A registry without Docker Hub's search endpoint is searched through its catalog:
      every repository whose name contains the term, printed with its registry so that
      it can be pulled as shown. Filters: \`stars=N\`, \`is-official=true|false\`.
    `,
    examples: [
      ["Search Docker Hub", "$0 search busybox"],
      ["Search a local registry's catalog", "$0 search 127.0.0.1:5000/busy"],
      ["Only names, at most 5", "$0 search --limit 5 --format '{{.Name}}' 127.0.0.1:5000/box"],
    ],
  });

  filters = Option.Array("-f,--filter", [], {
    description: "Filter output based on conditions provided",
  });
  format = Option.String("--format", { description: "Pretty-print search using a Go template" });
  limit = Option.String("--limit", "25", { description: "Max number of search results" });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "Don't truncate output" });
  term = Option.String({ name: "TERM" });

  async execute(): Promise<number> {
    const limit = Number(this.limit);
    if (!/^-?\d+$/.test(this.limit)) {
      throw new UsageError(
        `invalid argument "${this.limit}" for "--limit" flag: strconv.ParseInt: parsing "${this.limit}": invalid syntax`,
      );
    }
    const filter = parseFilters(this.filters ?? []);
    const core = await import("@strata/core");
    const container = await this.context.registry();
    const client = container.resolve(core.RegistryClient);
    try {
      const results = (await core.searchRegistry(client, this.term, { limit })).filter(
        (r) =>
          r.star_count >= filter.stars &&
          (filter.official === undefined || r.is_official === filter.official) &&
          (filter.automated === undefined || r.is_automated === filter.automated),
      );
      const rows = searchRows(results, !this.noTrunc);
      this.print(await searchTable(rows, this.format ?? ""));
      return 0;
    } finally {
      await client.close();
    }
  }
}

interface SearchFilter {
  stars: number;
  official?: boolean;
  automated?: boolean;
}

/** docker's search filters: `stars=N`, `is-official=BOOL`, `is-automated=BOOL`. */
function parseFilters(values: readonly string[]): SearchFilter {
  const out: SearchFilter = { stars: 0 };
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)`);
    const key = v.slice(0, eq).toLowerCase();
    const value = v.slice(eq + 1);
    const bool = () => {
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) {
        throw new UsageError(`invalid filter '${key}=${value}'`);
      }
      return /^(1|t|T|TRUE|true|True)$/.test(value);
    };
    if (key === "stars") {
      if (!/^\d+$/.test(value)) throw new UsageError(`invalid filter 'stars=${value}'`);
      out.stars = Math.max(out.stars, Number(value));
    } else if (key === "is-official") out.official = bool();
    else if (key === "is-automated") out.automated = bool();
    else throw new UsageError(`invalid filter '${key}'`);
  }
  return out;
}
