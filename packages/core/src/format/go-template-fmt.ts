/**
 * Go's `fmt` as templates use it: `Sprint` (how an action prints its value), `Sprintf`
 * (`printf`) and `Sprintln` (`println`), over the values of {@link ./go-template-values}.
 *
 * Supported: the verbs `%v %+v %s %q %d %b %o %O %x %X %c %U %e %E %f %F %g %G %t %T %%`,
 * the flags `+ - # 0` and space, width and precision (also `*`), and Go's error forms
 * (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`).
 */
import { formatFloat } from "./go-template-float.js";
import {
  entriesOf,
  GoFloat,
  GoNil,
  isObject,
  kindOf,
  numberValue,
  typeName,
} from "./go-template-values.js";

/** The flags, width and precision of one verb. */
interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  /** `%+v`: print struct field names. */
  plusV?: boolean;
  width?: number;
  prec?: number;
}

const PLAIN: Spec = { plus: false, minus: false, sharp: false, zero: false, space: false };

/** `fmt.Sprint(args...)`: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    const isString = typeof a === "string";
    if (i > 0 && !isString && typeof args[i - 1] !== "string") out += " ";
    out += formatArg(a, "v", PLAIN, 0);
  });
  return out;
}

/** `fmt.Sprintln(args...)`: operands separated by spaces, then a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((a) => formatArg(a, "v", PLAIN, 0)).join(" ")}\n`;
}

/** `fmt.Sprintf(format, args...)`. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argNum = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { ...PLAIN };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === "+") spec.plus = true;
      else if (c === "-") spec.minus = true;
      else if (c === "#") spec.sharp = true;
      else if (c === "0") spec.zero = true;
      else if (c === " ") spec.space = true;
      else break;
    }
    // Width.
    if (format[i] === "*") {
      i++;
      const w = args[argNum++];
      if (kindOf(w) === "int" && !tooLarge(numberValue(w))) {
        spec.width = numberValue(w);
        if (spec.width < 0) {
          spec.minus = true;
          spec.width = -spec.width;
        }
      } else out += "%!(BADWIDTH)";
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        // Go's parsenum: a width over a million is dropped (its digits still consumed).
        if (!tooLarge(Number(m[0]))) spec.width = Number(m[0]);
        i += m[0].length;
      }
    }
    // Precision.
    if (format[i] === ".") {
      i++;
      if (format[i] === "*") {
        i++;
        const p = args[argNum++];
        if (kindOf(p) === "int" && numberValue(p) >= 0 && !tooLarge(numberValue(p))) {
          spec.prec = numberValue(p);
        } else out += "%!(BADPREC)";
      } else {
        const m = /^\d+/.exec(format.slice(i));
        spec.prec = m && !tooLarge(Number(m[0])) ? Number(m[0]) : 0;
        i += m ? m[0].length : 0;
      }
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    if (spec.minus) spec.zero = false;
    if (verb === "v" && spec.plus) {
      // %+v: field names in structs; the sign flag does not reach the numbers inside.
      spec.plus = false;
      spec.plusV = true;
    }
    out += formatArg(arg, verb, spec, 0);
  }
  if (argNum < args.length) {
    const extra = args
      .slice(argNum)
      .map((a) =>
        a === null || a === undefined ? "<nil>" : `${typeName(a)}=${formatArg(a, "v", PLAIN, 0)}`,
      );
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}

/** Format one operand with a verb (fmt's `printArg`/`printValue`). */
export function formatArg(arg: unknown, verb: string, spec: Spec, depth: number): string {
  if (verb === "T") return pad(typeName(arg), spec);
  if (arg === null || arg === undefined) {
    return verb === "v" ? pad("<nil>", spec) : `%!${verb}(<nil>)`;
  }
  if (arg instanceof GoNil) {
    if (
      verb !== "v" &&
      verb !== "s" &&
      verb !== "q" &&
      verb !== "x" &&
      verb !== "X" &&
      verb !== "d"
    )
      return badVerb(verb, arg);
    return pad(arg.kind === "slice" ? "[]" : arg.kind === "map" ? "map[]" : "<nil>", spec);
  }
  switch (kindOf(arg)) {
    case "bool":
      return verb === "v" || verb === "t" ? pad(String(arg), spec) : badVerb(verb, arg);
    case "int":
      return formatInt(numberValue(arg), verb, spec) ?? badVerb(verb, arg);
    case "float":
      return formatFloatVerb(numberValue(arg), verb, spec) ?? badVerb(verb, arg);
    case "string":
      return formatString(arg as string, verb, spec) ?? badVerb(verb, arg);
    case "slice": {
      const items = (arg as unknown[]).map((x) => formatArg(x, verb, spec, depth + 1));
      return `[${items.join(" ")}]`;
    }
    case "struct": {
      const fields = entriesOf(arg as Record<string, unknown>).map(
        ([k, v]) => (spec.plusV ? `${k}:` : "") + formatArg(v, verb, spec, depth + 1),
      );
      return `{${fields.join(" ")}}`;
    }
    default: {
      if (!isObject(arg)) return pad(String(arg), spec);
      const entries = entriesOf(arg).map(
        ([k, v]) => `${formatArg(k, verb, spec, depth + 1)}:${formatArg(v, verb, spec, depth + 1)}`,
      );
      return `map[${entries.join(" ")}]`;
    }
  }
}

function badVerb(verb: string, arg: unknown): string {
  return `%!${verb}(${typeName(arg)}=${formatArg(arg, "v", PLAIN, 0)})`;
}

/** Go's `fmt.tooLarge`: widths and precisions beyond a million are refused. */
function tooLarge(n: number): boolean {
  return n > 1e6 || n < -1e6;
}

/** Pad `s` to the width with spaces (or zeros after the sign, for numbers). */
function pad(s: string, spec: Spec, numeric = false): string {
  const width = spec.width ?? 0;
  const len = [...s].length;
  if (len >= width) return s;
  const fill = width - len;
  if (spec.minus) return s + " ".repeat(fill);
  if (spec.zero) {
    if (numeric && /^[+\- ]/.test(s)) return s[0] + "0".repeat(fill) + s.slice(1);
    return "0".repeat(fill) + s;
  }
  return " ".repeat(fill) + s;
}

function sign(n: number, spec: Spec): string {
  if (n < 0 || Object.is(n, -0)) return "-";
  if (spec.plus) return "+";
  if (spec.space) return " ";
  return "";
}

function formatInt(n: number, verb: string, spec: Spec): string | undefined {
  const abs = Math.abs(n);
  let digits: string;
  let prefix = "";
  switch (verb) {
    case "v":
    case "d":
      digits = abs.toString(10);
      break;
    case "b":
      digits = abs.toString(2);
      if (spec.sharp) prefix = "0b";
      break;
    case "o":
      digits = abs.toString(8);
      if (spec.sharp) prefix = "0";
      break;
    case "O":
      digits = abs.toString(8);
      prefix = "0o";
      break;
    case "x":
      digits = abs.toString(16);
      if (spec.sharp) prefix = "0x";
      break;
    case "X":
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = "0X";
      break;
    case "c":
      return pad(String.fromCodePoint(validRune(n)), spec);
    case "q":
      return pad(quoteRuneLiteral(validRune(n)), spec);
    case "U": {
      const u = `U+${abs.toString(16).toUpperCase().padStart(4, "0")}`;
      return pad(spec.sharp ? `${u} '${String.fromCodePoint(validRune(n))}'` : u, spec);
    }
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G":
      return undefined;
    default:
      return undefined;
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && n === 0) digits = "";
    digits = digits.padStart(spec.prec, "0");
    return pad(sign(n, spec) + prefix + digits, { ...spec, zero: false });
  }
  return pad(sign(n, spec) + prefix + digits, spec, true);
}

function validRune(n: number): number {
  return n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? n : 0xfffd;
}

function formatFloatVerb(x: number, verb: string, spec: Spec): string | undefined {
  let s: string;
  switch (verb) {
    case "v":
      s = formatFloat(x, "g", spec.prec ?? -1);
      break;
    case "e":
    case "E":
    case "f":
    case "F":
      s = formatFloat(x, verb, spec.prec ?? 6);
      break;
    case "g":
    case "G":
      s = formatFloat(x, verb, spec.prec ?? -1);
      break;
    default:
      return undefined;
  }
  if (!s.startsWith("-") && !s.startsWith("+")) {
    if (spec.plus) s = `+${s}`;
    else if (spec.space) s = ` ${s}`;
  }
  if (s.endsWith("Inf") || s === "NaN") return pad(s, { ...spec, zero: false });
  return pad(s, spec, true);
}

function formatString(str: string, verb: string, spec: Spec): string | undefined {
  let s = str;
  if (spec.prec !== undefined && (verb === "s" || verb === "v" || verb === "q")) {
    s = [...s].slice(0, spec.prec).join("");
  }
  switch (verb) {
    case "v":
    case "s":
      return pad(s, spec);
    case "q":
      return pad(spec.sharp && !/[`\p{C}]/u.test(s) ? `\`${s}\`` : quote(s, spec.plus), spec);
    case "x":
    case "X": {
      let bytes = Buffer.from(s, "utf8");
      if (spec.prec !== undefined) bytes = bytes.subarray(0, spec.prec);
      let hex = [...bytes].map((b) => b.toString(16).padStart(2, "0"));
      if (verb === "X") hex = hex.map((h) => h.toUpperCase());
      const pre = spec.sharp ? (verb === "x" ? "0x" : "0X") : "";
      const body = spec.space ? hex.map((h) => pre + h).join(" ") : pre + hex.join("");
      return pad(body, spec);
    }
    default:
      return undefined;
  }
}

const QUOTE_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
};

/** Go's `strconv.Quote` (`asciiOnly`: `QuoteToASCII`). */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch in QUOTE_ESCAPES) out += QUOTE_ESCAPES[ch];
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (!asciiOnly && isPrint(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

function quoteRuneLiteral(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (ch === "'") return "'\\''";
  if (ch === '"') return "'\"'";
  return `'${quote(ch).slice(1, -1)}'`;
}

/** Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols, ASCII space). */
function isPrint(ch: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/** A float value as `%v` prints it, for callers outside fmt. */
export function floatString(v: number | GoFloat): string {
  return formatFloat(v instanceof GoFloat ? v.value : v, "g", -1);
}
