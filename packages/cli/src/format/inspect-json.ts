/**
 * `docker inspect`'s JSON: Go's `json.MarshalIndent(v, "", "    ")` plus a newline.
 *
 * Go's encoder escapes `<`, `>`, `&`, U+2028 and U+2029 (HTML-safe output), so
 * `apk add && rm` reads `apk add \u0026\u0026 rm`, as in docker's own output.
 */
export function inspectJson(value: unknown): string {
  const text = JSON.stringify(value, null, 4) ?? "null";
  return `${goEscape(text)}\n`;
}

function goEscape(json: string): string {
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * `docker inspect --format json`: the objects as one compact JSON array (Go's
 * `json.Compact` of the daemon's HTML-safe encoding) plus a newline.
 */
export function inspectJsonCompact(value: unknown): string {
  return `${goEscape(JSON.stringify(value) ?? "null")}\n`;
}
