import { InvalidArgumentError, isErrorCode } from "../errors.js";
import { DEFAULT_DOMAIN } from "../image/reference.js";
import { registryError } from "./error-response.js";
import type { RegistryClient } from "./registry-client.js";
import { loadUndici } from "./registry-transport.js";

/** One search hit, with Docker Hub's search API field names. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** Options of {@link searchRegistry}. */
export interface SearchOptions {
  /** Most results to return (docker's `--limit`, default 25, at most 100). */
  limit?: number;
  signal?: AbortSignal;
}

/** The registry and the term of a `search` argument (`host:5000/busy` → host, `busy`). */
export function parseSearchTerm(input: string): { domain: string; term: string } {
  const slash = input.indexOf("/");
  if (slash > 0) {
    const first = input.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      const domain = first === "index.docker.io" ? DEFAULT_DOMAIN : first;
      return { domain, term: input.slice(slash + 1) };
    }
  }
  return { domain: DEFAULT_DOMAIN, term: input };
}

/**
 * Search a registry, as `docker search`: Docker Hub's search endpoint
 * (`GET /v1/search?q=TERM&n=LIMIT`) when the registry has one (docker.io's index, or any
 * registry that answers it); else the registry's `_catalog`, keeping the repositories whose
 * name contains the term (no description, no stars). Names from a catalog are full
 * (`127.0.0.1:5000/library/busybox`), so they can be pulled as printed.
 * @throws InvalidArgumentError for an empty term or a limit outside 1..100.
 */
export async function searchRegistry(
  client: RegistryClient,
  input: string,
  opts: SearchOptions = {},
): Promise<SearchResult[]> {
  const limit = opts.limit ?? 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new InvalidArgumentError(`limit ${limit} is outside the range of [1, 100]`);
  }
  const { domain, term } = parseSearchTerm(input);
  if (term === "") throw new InvalidArgumentError("search term must not be empty");
  const v1 = await searchV1(client, domain, term, limit, opts.signal);
  if (v1) return v1.slice(0, limit);
  const needle = term.toLowerCase();
  const names = await client.catalog(domain, opts.signal);
  return names
    .filter((n) => n.toLowerCase().includes(needle))
    .slice(0, limit)
    .map((n) => ({
      name: `${domain}/${n}`,
      description: "",
      star_count: 0,
      is_official: false,
      is_automated: false,
    }));
}

/** Docker Hub's search API on the registry's index; undefined when it has none (404). */
async function searchV1(
  client: RegistryClient,
  domain: string,
  term: string,
  limit: number,
  signal?: AbortSignal,
): Promise<SearchResult[] | undefined> {
  const query = `q=${encodeURIComponent(term)}&n=${limit}`;
  let status: number;
  let text: string;
  if (domain === DEFAULT_DOMAIN) {
    const res = await (await loadUndici()).request(`https://index.docker.io/v1/search?${query}`, {
      method: "GET",
      headers: { "user-agent": client.options.userAgent ?? "strata" },
      signal: signal ?? null,
    });
    status = res.statusCode;
    text = await res.body.text();
  } else {
    let res: Awaited<ReturnType<ReturnType<RegistryClient["transport"]>["request"]>>;
    try {
      res = await client.transport(domain).request({
        method: "GET",
        path: `/v1/search?${query}`,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      // A registry that demands auth for an endpoint it does not have: use the catalog.
      if (isErrorCode(err, "FAILED_PRECONDITION")) return undefined;
      throw err;
    }
    status = res.status;
    text = await res.body.text().catch(() => "");
  }
  if (status === 404 || status === 401 || status === 405) return undefined;
  if (status !== 200) throw registryError(status, text, "search");
  let json: { results?: Partial<SearchResult>[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return undefined;
  }
  if (!Array.isArray(json.results)) return undefined;
  return json.results.map((r) => ({
    name: r.name ?? "",
    description: r.description ?? "",
    star_count: r.star_count ?? 0,
    is_official: r.is_official ?? false,
    is_automated: r.is_automated ?? false,
  }));
}
