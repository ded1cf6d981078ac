/**
 * The functions a template can call: Go's builtins (`and or not len index slice print
 * printf println eq ne lt le gt ge html js urlquery`) and docker's additions (`json split
 * join title lower upper pad truncate`, from docker/cli's `templates` package), each with
 * the parameter types Go would check arguments against.
 */
import { sprint, sprintf, sprintln } from "./go-template-fmt.js";
import { goJson } from "./go-template-json.js";
import { GoNil, goTypeOf, isTrue, kindOf, numberValue, typeName } from "./go-template-values.js";

/** A parameter type, as Go's reflection would check and convert an argument. */
export type ParamType = "any" | "string" | "int" | "[]string";

/** A failure inside a function; the executor words it `error calling <name>: <message>`. */
export class FuncError extends Error {}

/** A template function. */
export interface GoFunc {
  /** Fixed parameters. */
  params: ParamType[];
  /** Type of the variadic tail, if the function is variadic. */
  variadic?: ParamType;
  /** `and`/`or`: arguments are passed unevaluated, as thunks, so they short-circuit. */
  lazy?: boolean;
  fn(...args: unknown[]): unknown;
}

/** A set of template functions by name. */
export type FuncMap = Readonly<Record<string, GoFunc>>;

const str = (s: unknown) => s as string;
const fail = (m: string): never => {
  throw new FuncError(m);
};

/** Go's basic kinds for comparisons; undefined for non-basic values. */
function basicKind(v: unknown): "bool" | "int" | "float" | "string" | undefined {
  const k = kindOf(v);
  return k === "bool" || k === "int" || k === "float" || k === "string" ? k : undefined;
}

function isNilValue(v: unknown): boolean {
  return v === undefined || v === null || v instanceof GoNil;
}

function eq(arg1: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) fail("missing argument for comparison");
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (arg1 !== undefined && arg1 !== null && arg !== undefined && arg !== null) {
        fail("incompatible types for comparison");
      }
    } else if (k1 === "int" || k1 === "float") {
      truth = numberValue(arg1) === numberValue(arg);
    } else if (k1 !== undefined) {
      truth = arg1 === arg;
    } else if (isNilValue(arg1) || isNilValue(arg)) {
      truth = isNilValue(arg1) === isNilValue(arg);
    } else {
      fail(`non-comparable type ${typeName(arg)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (!k1 || !k2) fail("invalid type for comparison");
  if (k1 !== k2) fail("incompatible types for comparison");
  if (k1 === "bool") fail("invalid type for comparison");
  if (k1 === "string") return (a as string) < (b as string);
  return numberValue(a) < numberValue(b);
}

function indexArg(index: unknown, len: number): number {
  if (index === undefined || index === null) fail("cannot index slice/array with nil");
  if (kindOf(index) !== "int") fail(`cannot index slice/array with type ${typeName(index)}`);
  const x = numberValue(index);
  if (x < 0 || x > len) fail(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let cur = item;
  if (cur === undefined || cur === null) fail("index of untyped nil");
  for (const ix of indexes) {
    if (cur instanceof GoNil) {
      if (cur.kind === "pointer") fail("index of nil pointer");
      if (cur.kind === "map") {
        cur = cur.typeName === "map[string]string" ? "" : null;
        continue;
      }
      indexArg(ix, 0);
      fail("reflect: slice index out of range");
    }
    const k = kindOf(cur);
    if (k === "slice" || k === "string") {
      const isStr = k === "string";
      const bytes = isStr ? Buffer.from(cur as string, "utf8") : undefined;
      const len = bytes ? bytes.length : (cur as unknown[]).length;
      const x = indexArg(ix, len);
      if (x === len) fail(`reflect: ${isStr ? "string" : "slice"} index out of range`);
      cur = bytes ? bytes[x] : (cur as unknown[])[x];
    } else if (k === "map") {
      if (kindOf(ix) !== "string") {
        fail(`value has type ${typeName(ix)}; should be string`);
      }
      const m = cur as Record<string, unknown>;
      cur = Object.hasOwn(m, ix as string)
        ? m[ix as string]
        : goTypeOf(cur)?.elem === "string"
          ? ""
          : null;
    } else {
      fail(`can't index item of type ${typeName(cur)}`);
    }
  }
  return cur;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) fail("slice of untyped nil");
  if (indexes.length > 3) fail(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  if (k !== "string" && k !== "slice") fail(`can't slice item of type ${typeName(item)}`);
  if (k === "string" && indexes.length > 2) fail("cannot 3-index slice a string");
  const len = k === "string" ? Buffer.byteLength(item as string) : (item as unknown[]).length;
  const idx = indexes.map((x) => indexArg(x, len));
  const lo = idx[0] ?? 0;
  const hi = idx[1] ?? len;
  if (lo > hi) fail(`invalid slice index: ${lo} > ${hi}`);
  if (k === "string")
    return Buffer.from(item as string)
      .subarray(lo, hi)
      .toString("utf8");
  return (item as unknown[]).slice(lo, hi);
}

function length(item: unknown): number {
  if (item instanceof GoNil) {
    if (item.kind === "pointer") fail("len of nil pointer");
    return 0;
  }
  switch (kindOf(item)) {
    case "string":
      return Buffer.byteLength(item as string);
    case "slice":
      return (item as unknown[]).length;
    case "map":
      return Object.keys(item as object).length;
    case "invalid":
    case "nil":
      return fail("reflect: call of reflect.Value.Type on zero Value");
    default:
      return fail(`len of type ${typeName(item)}`);
  }
}

/** Go's `evalArgs` for html/js/urlquery: a lone string is used as is, else `fmt.Sprint`. */
function joinArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === "string" ? args[0] : sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) =>
    c === "\0"
      ? "\uFFFD"
      : ({ '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;" }[c] ?? c),
  );
}

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if ("<>&=".includes(ch)) out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    else if (cp < 0x20 || (cp >= 0x7f && !/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch))) {
      out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    } else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  return [...Buffer.from(s, "utf8")]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === " ") return "+";
      return `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** Go's deprecated `strings.Title`: upper-case the first letter of each word. */
export function title(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    out += isSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp <= 0x7f) {
    if (/[0-9a-zA-Z_]/.test(ch)) return false;
    return true;
  }
  if (/^[\p{L}\p{Nd}]$/u.test(ch)) return false;
  return /^\s$/u.test(ch);
}

/** Go's `strings.Split`: an empty separator splits into UTF-8 sequences. */
function split(s: string, sep: string): string[] {
  return sep === "" ? [...s] : s.split(sep);
}

/** Go's builtin template functions. */
export const BUILTINS: FuncMap = {
  and: {
    params: ["any"],
    variadic: "any",
    lazy: true,
    fn: (...thunks) => {
      let v: unknown;
      for (const t of thunks as (() => unknown)[]) {
        v = t();
        if (!isTrue(v)) return v;
      }
      return v;
    },
  },
  or: {
    params: ["any"],
    variadic: "any",
    lazy: true,
    fn: (...thunks) => {
      let v: unknown;
      for (const t of thunks as (() => unknown)[]) {
        v = t();
        if (isTrue(v)) return v;
      }
      return v;
    },
  },
  not: { params: ["any"], fn: (v) => !isTrue(v) },
  len: { params: ["any"], fn: length },
  index: { params: ["any"], variadic: "any", fn: index },
  slice: { params: ["any"], variadic: "any", fn: slice },
  print: { params: [], variadic: "any", fn: (...a) => sprint(a) },
  printf: { params: ["string"], variadic: "any", fn: (f, ...a) => sprintf(str(f), a) },
  println: { params: [], variadic: "any", fn: (...a) => sprintln(a) },
  eq: { params: ["any"], variadic: "any", fn: eq },
  ne: { params: ["any", "any"], fn: (a, b) => !eq(a, b) },
  lt: { params: ["any", "any"], fn: lt },
  le: { params: ["any", "any"], fn: (a, b) => lt(a, b) || eq(a, b) },
  gt: { params: ["any", "any"], fn: (a, b) => !(lt(a, b) || eq(a, b)) },
  ge: { params: ["any", "any"], fn: (a, b) => !lt(a, b) },
  html: { params: [], variadic: "any", fn: (...a) => htmlEscape(joinArgs(a)) },
  js: { params: [], variadic: "any", fn: (...a) => jsEscape(joinArgs(a)) },
  urlquery: { params: [], variadic: "any", fn: (...a) => queryEscape(joinArgs(a)) },
  call: {
    params: ["any"],
    variadic: "any",
    fn: (f) => fail(`non-function ${typeName(f)} of type ${typeName(f)}`),
  },
};

/** Go's `strings.Repeat(" ", n)`, failing as its panics do (the call's error in a template). */
function spaces(n: number): string {
  if (n < 0) fail("strings: negative Repeat count");
  // Go would try to allocate; a string this long is an attack on memory, not a layout.
  if (n > 1 << 24) fail("strings: Repeat output length overflow");
  return " ".repeat(n);
}

/** docker/cli's `templates.basicFunctions`. */
export const DOCKER_FUNCS: FuncMap = {
  json: { params: ["any"], fn: (v) => goJson(v) },
  split: { params: ["string", "string"], fn: (s, sep) => split(str(s), str(sep)) },
  join: {
    params: ["[]string", "string"],
    // A nil slice (untyped nil, a missing value) joins to "", as strings.Join(nil, sep).
    fn: (a, sep) => (a instanceof GoNil || a == null ? "" : (a as string[]).join(str(sep))),
  },
  title: { params: ["string"], fn: (s) => title(str(s)) },
  lower: { params: ["string"], fn: (s) => str(s).toLowerCase() },
  upper: { params: ["string"], fn: (s) => str(s).toUpperCase() },
  pad: {
    params: ["string", "int", "int"],
    fn: (s, pre, post) =>
      str(s) === "" ? "" : spaces(numberValue(pre)) + str(s) + spaces(numberValue(post)),
  },
  truncate: {
    params: ["string", "int"],
    fn: (s, n) => {
      const bytes = Buffer.from(str(s), "utf8");
      const len = numberValue(n);
      if (bytes.length < len) return str(s);
      if (len < 0) fail(`runtime error: slice bounds out of range [:${len}]`);
      return bytes.subarray(0, len).toString("utf8");
    },
  },
};

/**
 * docker/cli's `templates.HeaderFunctions`: what a `table` format's header row runs with,
 * so `{{.Name | upper}}` keeps the header `NAME` and `{{join .Tags ","}}` the header `TAGS`.
 */
export const DOCKER_HEADER_FUNCS: FuncMap = {
  json: { params: ["string"], fn: (v) => v },
  split: { params: ["string", "string"], fn: (v) => v },
  join: { params: ["string", "string"], fn: (v) => v },
  title: { params: ["string"], fn: (v) => v },
  lower: { params: ["string"], fn: (v) => v },
  upper: { params: ["string"], fn: (v) => v },
  truncate: { params: ["string", "int"], fn: (v) => v },
};

/** Check a value against a parameter type; returns an error message, or undefined when fine. */
export function checkParam(v: unknown, type: ParamType): string | undefined {
  if (type === "any") return undefined;
  if (v === undefined || v === null) {
    return type === "[]string" ? undefined : `invalid value; expected ${type}`;
  }
  const k = kindOf(v);
  if (type === "string" && k === "string") return undefined;
  if (type === "int" && k === "int") return undefined;
  if (type === "[]string") {
    if (v instanceof GoNil && v.kind === "slice") return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return undefined;
    if (Array.isArray(v) && v.length === 0) return undefined;
  }
  return `wrong type for value; expected ${type}; got ${typeName(v)}`;
}
