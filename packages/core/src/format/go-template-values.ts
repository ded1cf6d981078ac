/**
 * How Go values are represented when a template runs over JavaScript data.
 *
 * Go's `text/template` works on typed values; strata's data is JSON-like. The mapping:
 *
 * | Go | JavaScript |
 * |---|---|
 * | `string`, `bool` | `string`, `boolean` |
 * | `int` | an integral `number` |
 * | `float64` | a non-integral `number`, or a {@link GoFloat} (a float that happens to be whole) |
 * | slice | `Array` |
 * | `map[string]…` | a plain object (keys sorted when ranged, printed or encoded) |
 * | struct | a plain object marked by {@link goStruct} (fields in insertion order) |
 * | nil interface (a JSON `null`) | `null` or `undefined` |
 * | typed nil (nil slice, map, pointer) | a {@link GoNil} |
 *
 * The distinctions matter where Go's behaviour differs: a missing struct field is an error
 * (`can't evaluate field X in type T`) while a missing map key yields `<no value>`; a nil
 * slice prints `[]` but a nil interface prints `<no value>`.
 */

/**
 * Symbol under which {@link goStruct} and {@link goMap} record a value's Go type. It is a
 * registered symbol, so code that must not load core (the CLI's format modules) can mark
 * values with `Symbol.for("@strata/core:go-type")` and a {@link GoTypeInfo}.
 */
export const GO_TYPE: unique symbol = Symbol.for("@strata/core:go-type");

/** The Go type recorded on a marked object. */
export interface GoTypeInfo {
  /** `struct`: missing fields are errors; `map`: missing keys follow `missingkey`. */
  kind: "struct" | "map";
  /** Go's name for the type, used in error messages (`*formatter.imageContext`). */
  name: string;
  /**
   * Maps only: the element type. `string` makes `index` of a missing key return `""`
   * (Go's zero value), as for docker's `map[string]string` labels.
   */
  elem?: "string" | "any";
  /** Structs only: `json` encodes the fields as a map, keys sorted (docker's MarshalJSON). */
  jsonAsMap?: boolean;
}

/** Objects that carry a Go type marker. */
export type GoMarked = Record<string, unknown> & { [GO_TYPE]?: GoTypeInfo };

/**
 * Mark `fields` as a Go struct named `name`: the template engine then reports a missing
 * field as docker does (`can't evaluate field Foo in type <name>`). Returns `fields`.
 */
export function goStruct<T extends Record<string, unknown>>(
  fields: T,
  name: string,
  opts: { jsonAsMap?: boolean } = {},
): T {
  Object.defineProperty(fields, GO_TYPE, {
    value: { kind: "struct", name, ...(opts.jsonAsMap ? { jsonAsMap: true } : {}) },
    enumerable: false,
  });
  return fields;
}

/** Mark `entries` as a Go map named `name` with the given element type. Returns `entries`. */
export function goMap<T extends Record<string, unknown>>(
  entries: T,
  name: string,
  elem: "string" | "any" = "any",
): T {
  Object.defineProperty(entries, GO_TYPE, {
    value: { kind: "map", name, elem },
    enumerable: false,
  });
  return entries;
}

/** The Go type info of a marked object, if any. */
export function goTypeOf(v: unknown): GoTypeInfo | undefined {
  return isObject(v) ? (v as GoMarked)[GO_TYPE] : undefined;
}

/** A typed nil: prints as `[]`, `map[]` or `<nil>` depending on what it is a nil of. */
export class GoNil {
  constructor(
    /** What kind of nil. */
    readonly kind: "slice" | "map" | "pointer",
    /** Go's name for the type (`[]string`, `map[string]string`, `*container.HealthConfig`). */
    readonly typeName: string = kind === "slice"
      ? "[]string"
      : kind === "map"
        ? "map[string]string"
        : "*struct {}",
  ) {}
}

/** A Go `float64` whose value is whole (`1.0`), kept apart from the integer `1`. */
export class GoFloat {
  constructor(readonly value: number) {}
}

/** Go's kinds as far as the template engine needs them. */
export type GoKind =
  | "invalid"
  | "nil"
  | "bool"
  | "int"
  | "float"
  | "string"
  | "slice"
  | "map"
  | "struct";

/** True for plain (or marked) objects: not arrays, not null, not our wrapper classes. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof GoNil) &&
    !(v instanceof GoFloat)
  );
}

/** The Go kind of a value. `undefined` is an invalid value (a missing map entry). */
export function kindOf(v: unknown): GoKind {
  if (v === undefined) return "invalid";
  if (v === null) return "nil";
  if (v instanceof GoNil) return v.kind === "pointer" ? "nil" : v.kind;
  if (v instanceof GoFloat) return "float";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "bigint":
      return "int";
  }
  if (Array.isArray(v)) return "slice";
  const info = goTypeOf(v);
  if (info?.kind === "struct") return "struct";
  return "map";
}

/** The numeric value of an int or float. */
export function numberValue(v: unknown): number {
  if (v instanceof GoFloat) return v.value;
  if (typeof v === "bigint") return Number(v);
  return v as number;
}

/** Go's name for the type of `v`, as error messages and `%T` print it. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return "<nil>";
  if (v instanceof GoNil) return v.typeName;
  switch (kindOf(v)) {
    case "bool":
      return "bool";
    case "int":
      return "int";
    case "float":
      return "float64";
    case "string":
      return "string";
    case "slice": {
      const arr = v as unknown[];
      return arr.length > 0 && arr.every((x) => typeof x === "string")
        ? "[]string"
        : "[]interface {}";
    }
    case "struct":
      return goTypeOf(v)?.name ?? "struct {}";
    default:
      return goTypeOf(v)?.name ?? "map[string]interface {}";
  }
}

/** Go's `template.IsTrue`: the truth of a value for `if`, `with`, `and`, `or`, `not`. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case "invalid":
    case "nil":
      return false;
    case "bool":
      return v as boolean;
    case "int":
    case "float":
      return numberValue(v) !== 0;
    case "string":
      return (v as string).length > 0;
    case "slice":
      return v instanceof GoNil ? false : (v as unknown[]).length > 0;
    case "map":
      return v instanceof GoNil ? false : Object.keys(v as object).length > 0;
    case "struct":
      return true;
  }
}

/** Keys of a map in Go's sorted order (`range`, `%v` and `json` all sort them). */
export function sortedKeys(m: Record<string, unknown>): string[] {
  return Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Entries of a struct (insertion order) or map (sorted), without unset fields and methods. */
export function entriesOf(v: Record<string, unknown>): [string, unknown][] {
  const keys = kindOf(v) === "struct" ? Object.keys(v) : sortedKeys(v);
  return keys.filter((k) => v[k] !== undefined && typeof v[k] !== "function").map((k) => [k, v[k]]);
}
