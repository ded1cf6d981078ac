/**
 * Marks template values as Go structs without loading `@strata/core` (format modules are
 * loaded by every command; core is imported lazily). The marker is core's `GO_TYPE`,
 * a registered symbol, so `goStructOf` and core's `goStruct` mark values the same way.
 */
import type { GoTypeInfo } from "@strata/core";

const GO_TYPE = Symbol.for("@strata/core:go-type");

/**
 * `fields` marked as the Go struct `name`, encoded by `{{json .}}` as a map with sorted
 * keys (docker's `MarshalJSON` of its listing contexts). Returns `fields`.
 */
export function goStructOf<T extends object>(name: string, fields: T): T {
  const info: GoTypeInfo = { kind: "struct", name, jsonAsMap: true };
  Object.defineProperty(fields, GO_TYPE, { value: info, enumerable: false });
  return fields;
}
