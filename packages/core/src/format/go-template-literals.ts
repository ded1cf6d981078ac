/**
 * Literals of Go templates: string and character constants (`strconv.Unquote`), numbers
 * (`parse.NumberNode`), and how parse errors quote tokens.
 */
import type { Item } from "./go-template-lexer.js";
import type { NumberValue } from "./go-template-nodes.js";

/** Go's `item.String()` as parse errors quote tokens. */
export function describe(t: Item): string {
  if (t.type === "eof") return "EOF";
  if (t.type === "keyword") return `<${t.val}>`;
  if (t.type === "leftDelim" || t.type === "rightDelim") return JSON.stringify(t.val);
  if (t.val.length > 10) return `${JSON.stringify(t.val.slice(0, 10))}...`;
  return JSON.stringify(t.val);
}

/** Go's `newNumber`: a character constant or a number literal's int and float values. */
export function parseNumber(
  text: string,
  isChar: boolean,
  fail: (m: string) => never,
): NumberValue {
  if (isChar) {
    const s = unquote(text, fail);
    const cp = s.codePointAt(0);
    if (cp === undefined || [...s].length !== 1) fail(`malformed character constant: ${text}`);
    return { isInt: true, isFloat: true, int: cp, float: cp };
  }
  if (text.endsWith("i")) fail(`complex numbers are not supported: ${text}`);
  const clean = text.replaceAll("_", "");
  const sign = clean.startsWith("-") ? -1 : 1;
  const body = clean.replace(/^[+-]/, "");
  let int: number | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) int = Number.parseInt(body.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(body)) int = Number.parseInt(body.slice(2), 8);
  else if (/^0[bB][01]+$/.test(body)) int = Number.parseInt(body.slice(2), 2);
  else if (/^0[0-7]+$/.test(body)) int = Number.parseInt(body.slice(1), 8);
  else if (/^[0-9]+$/.test(body)) int = Number.parseInt(body, 10);
  if (int !== undefined) {
    if (!Number.isSafeInteger(int)) fail(`integer overflow: ${text}`);
    return { isInt: true, isFloat: true, int: sign * int, float: sign * int };
  }
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) {
    const f = sign * Number(body);
    if (Number.isFinite(f)) {
      return { isInt: Number.isSafeInteger(f), isFloat: true, int: f, float: f };
    }
  }
  fail(`illegal number syntax: ${JSON.stringify(text)}`);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
};

/** Go's `strconv.Unquote` for `"…"`, `` `…` `` and `'…'` literals. */
export function unquote(quoted: string, fail: (m: string) => never): string {
  const q = quoted[0];
  if (q === "`") return quoted.slice(1, -1).replaceAll("\r", "");
  const body = quoted.slice(1, -1);
  let out = "";
  const bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString("utf8");
    bytes.length = 0;
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== "\\") {
      flushBytes();
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) fail("invalid syntax");
    if (e in SIMPLE_ESCAPES) {
      flushBytes();
      out += SIMPLE_ESCAPES[e];
    } else if (e === q) {
      flushBytes();
      out += e;
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) fail("invalid syntax");
      i += n;
      if (e === "x") bytes.push(Number.parseInt(hex, 16));
      else {
        flushBytes();
        out += String.fromCodePoint(Number.parseInt(hex, 16));
      }
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) fail("invalid syntax");
      bytes.push(Number.parseInt(oct, 8));
      i += 2;
    } else {
      fail("invalid syntax");
    }
  }
  flushBytes();
  return out;
}
