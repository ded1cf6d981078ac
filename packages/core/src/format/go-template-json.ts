/**
 * Go's `encoding/json` output for template values, as docker's `json` template function
 * writes it: compact, map keys sorted, struct fields in declaration order, typed nils as
 * `null`, HTML characters not escaped (docker turns that off) but U+2028/U+2029 escaped
 * (Go always does).
 */
import { formatFloat } from "./go-template-float.js";
import { GoFloat, GoNil, goTypeOf, isObject, sortedKeys } from "./go-template-values.js";

/** Encode `v` as Go's `json.Marshal` would (no trailing newline). */
export function goJson(v: unknown): string {
  if (v === null || v === undefined || v instanceof GoNil) return "null";
  if (v instanceof GoFloat) return jsonFloat(v.value);
  switch (typeof v) {
    case "string":
      return jsonString(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return Number.isInteger(v) ? String(v) : jsonFloat(v);
    case "bigint":
      return v.toString();
  }
  if (Array.isArray(v)) return `[${v.map((x) => goJson(x)).join(",")}]`;
  if (isObject(v)) {
    const info = goTypeOf(v);
    const keys = info?.kind === "struct" && !info.jsonAsMap ? Object.keys(v) : sortedKeys(v);
    const parts = keys
      .filter((k) => v[k] !== undefined && typeof v[k] !== "function")
      .map((k) => `${jsonString(k)}:${goJson(v[k])}`);
    return `{${parts.join(",")}}`;
  }
  return "null";
}

/** Go's float encoding: `%f`-like unless the exponent is below -6 or at least 21. */
function jsonFloat(f: number): string {
  if (!Number.isFinite(f)) return "null"; // Go refuses these; null is the useful reading.
  const abs = Math.abs(f);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go: strconv 'e' then "e-07" → "e-7".
    return formatFloat(f, "e", -1).replace(/e([+-])0(\d)$/, "e$1$2");
  }
  return formatFloat(f, "f", -1);
}

/** A JSON string literal with Go's escaping (control characters, U+2028, U+2029). */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s.slice(i, i + 2);
        i++;
      } else out += "\\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) out += "\\ufffd";
    else out += s[i];
  }
  return `${out}"`;
}
