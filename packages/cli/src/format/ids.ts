import { displayWidth } from "./table-writer.js";

/**
 * docker's `stringid.TruncateID`: drop the algorithm prefix (`sha256:`) and keep the
 * first 12 hex digits, the IMAGE ID column's short form.
 */
export function truncateId(id: string): string {
  const colon = id.indexOf(":");
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.slice(0, 12);
}

/**
 * docker's `formatter.Ellipsis`: cut `s` to at most `maxWidth` terminal columns, ending in
 * `…` when something was cut (history's CREATED BY column uses 45).
 */
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return "";
  const chars = [...s];
  if (maxWidth === 1) return chars[0] ?? "";
  if (displayWidth(s) <= maxWidth) return s;
  let out = "";
  let w = 0;
  for (const ch of chars) {
    const cw = displayWidth(ch);
    if (w + cw > maxWidth - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}
