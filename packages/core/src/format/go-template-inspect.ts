/**
 * `docker inspect --format` semantics over strata's inspect JSON.
 *
 * docker runs an inspect template twice when needed: first over the typed Go structs
 * (where a nil slice prints `[]`, a missing label `<no value>`, and an unknown field fails),
 * then, if that failed, over the raw JSON decoded into maps with `missingkey=error`, whose
 * error is the one reported (`map has no entry for key "Foo"`). {@link executeInspectTemplate}
 * does the same, recovering the Go types from docker's field names with {@link typedInspect}.
 */
import { type GoTemplate, GoTemplateError } from "./go-template.js";
import { GoNil, goMap, goStruct } from "./go-template-values.js";

/** Fields of docker's inspect types that are Go maps, with their Go type names. */
const MAP_FIELDS: Record<string, string> = {
  Labels: "map[string]string",
  ExposedPorts: "nat.PortSet",
  Volumes: "map[string]struct {}",
  Data: "map[string]string",
  Ports: "nat.PortMap",
  Networks: "map[string]*network.EndpointSettings",
  Options: "map[string]string",
  DriverOpts: "map[string]string",
  Annotations: "map[string]string",
  Sysctls: "map[string]string",
  StorageOpt: "map[string]string",
  Tmpfs: "map[string]string",
};

/** Fields of docker's inspect types that are Go slices (a nil one prints `[]`). */
const SLICE_FIELDS: ReadonlySet<string> = new Set([
  "Aliases",
  "Args",
  "Binds",
  "CapAdd",
  "CapDrop",
  "Cmd",
  "DNSNames",
  "Devices",
  "Dns",
  "DnsOptions",
  "DnsSearch",
  "Entrypoint",
  "Env",
  "ExtraHosts",
  "GroupAdd",
  "Layers",
  "Links",
  "Mounts",
  "OnBuild",
  "RepoDigests",
  "RepoTags",
  "SecurityOpt",
  "Shell",
  "Test",
]);

/**
 * The inspect document `doc` (plain JSON) with docker's Go types recovered: objects become
 * structs except the known map fields (`Labels`, `ExposedPorts`, `GraphDriver.Data`, …),
 * and `null`s become typed nils (`[]` for slices, `map[]` for maps, `<nil>` otherwise).
 */
export function typedInspect(doc: unknown, key = "", parent = ""): unknown {
  if (doc === null || doc === undefined) {
    if (SLICE_FIELDS.has(key)) return new GoNil("slice", "[]string");
    const mapType = mapTypeOf(key, parent);
    if (mapType) return new GoNil("map", mapType);
    return new GoNil("pointer", `*${key || "struct {}"}`);
  }
  if (Array.isArray(doc)) return doc.map((x) => typedInspect(x, "", key));
  if (typeof doc !== "object") return doc;
  const mapType = mapTypeOf(key, parent);
  const src = doc as Record<string, unknown>;
  if (mapType) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(src)) out[k] = typedInspect(v, "", key);
    return goMap(out, mapType, mapType === "map[string]string" ? "string" : "any");
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) out[k] = typedInspect(v, k, key);
  return goStruct(out, key ? `*${key}` : "struct {}");
}

function mapTypeOf(key: string, parent: string): string | undefined {
  if (key === "Config" && parent === "LogConfig") return "map[string]string";
  return Object.hasOwn(MAP_FIELDS, key) ? MAP_FIELDS[key] : undefined;
}

/**
 * Execute an inspect template as docker's `TemplateInspector` does: over the typed
 * document first, and when that fails, over the raw document with `missingkey=error`.
 * @throws GoTemplateError with the error of the raw execution.
 */
export function executeInspectTemplate(tmpl: GoTemplate, doc: unknown): string {
  try {
    return tmpl.execute(typedInspect(doc));
  } catch (err) {
    if (!(err instanceof GoTemplateError)) throw err;
    return tmpl.execute(doc, { missingKey: "error" });
  }
}
