import fc from "fast-check";
import { describe, it } from "vitest";
import { fuzzParams, typedOnly } from "../util/fuzz-support.js";
import { GoTemplate } from "./go-template.js";

/**
 * Fixed seed, so a failure is reproducible (STRATA_FUZZ_SEED explores others); runs sized
 * to keep each property near a second.
 */
const params = fuzzParams(2500);

/** What `--format` templates see: docker's inspect shapes, with odd values mixed in. */
const data = {
  ID: "sha256:abc",
  Config: {
    Env: ["A=1", "B=2"],
    Labels: { "com.example.k": "v", "": "empty key" },
    Cmd: null,
    ExposedPorts: {},
  },
  RepoTags: ["a:1", "b:2"],
  Size: 1234,
  Neg: -1,
  Float: 1.5e300,
  Big: Number.MAX_SAFE_INTEGER,
  Nested: { A: [{ B: [1, 2, [3, [4]]] }] },
  Empty: [],
  Nil: null,
  Bool: true,
};

/** Template tokens, so that generated texts reach deep into the parser and executor. */
const token = fc.constantFrom(
  "{{",
  "}}",
  "{{-",
  "-}}",
  " ",
  ".",
  ".ID",
  ".Config",
  ".Config.Env",
  ".Config.Labels",
  ".RepoTags",
  ".Nested",
  ".Size",
  ".Float",
  ".Big",
  ".Nil",
  ".Missing",
  "$",
  "$x",
  "$x :=",
  "$x =",
  ":=",
  "=",
  "|",
  "(",
  ")",
  ",",
  '"',
  '"s"',
  "`raw`",
  "'c'",
  "'\\n'",
  "0",
  "1",
  "-1",
  "0x1F",
  "1e9",
  "1e400",
  "99999999999999999999",
  "nil",
  "true",
  "if",
  "else",
  "else if",
  "end",
  "range",
  "with",
  "define",
  '"t"',
  "template",
  "block",
  "break",
  "continue",
  "and",
  "or",
  "not",
  "len",
  "index",
  "slice",
  "print",
  "printf",
  '"%v %d %s %q %x %-10s %5.2f %*d %!"',
  "println",
  "eq",
  "ne",
  "lt",
  "gt",
  "html",
  "js",
  "urlquery",
  "call",
  "json",
  "split",
  "join",
  "title",
  "lower",
  "upper",
  "pad",
  "truncate",
  "/*",
  "*/",
  "\n",
);
const tokenText = fc.array(token, { maxLength: 24 }).map((ts) => ts.join(" "));
/** Token texts inside one action, a shape most of whose variants parse. */
const action = fc.array(token, { minLength: 1, maxLength: 8 }).map((ts) => `{{${ts.join(" ")}}}`);
const templates = fc.oneof(
  tokenText,
  action,
  fc.array(action, { maxLength: 5 }).map((a) => a.join("x")),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }).map((s) => `{{${s}}}`),
);

/** Well-formed templates from a small grammar: fields, literals, calls, pipelines, blocks. */
const wellFormed = fc.letrec((tie) => ({
  field: fc.constantFrom(
    ".",
    ".ID",
    ".Config.Env",
    ".Config.Labels",
    ".RepoTags",
    ".Nested",
    ".Size",
    ".Neg",
    ".Float",
    ".Big",
    ".Nil",
    ".Empty",
    ".Missing.Deeper",
    "$",
    "$.Config",
  ),
  literal: fc.oneof(
    fc.integer({ min: -5, max: 5 }).map(String),
    fc.constantFrom("1e308", "-0", "0x7fffffffffffffff", "1.5", "nil", "true", "'x'"),
    fc.string({ maxLength: 6 }).map((t) => JSON.stringify(t)),
    fc.constantFrom('"%v"', '"%d"', '"%s|%q"', '"%08.3f"', '"%x"', '"%-*d"', '"%[2]v"', '"%"'),
  ),
  arg: fc.oneof(
    { depthSize: "small" },
    tie("field"),
    tie("literal"),
    tie("call").map((c) => `(${c})`),
  ) as fc.Arbitrary<string>,
  call: fc
    .tuple(
      fc.constantFrom(
        "len",
        "index",
        "slice",
        "printf",
        "print",
        "eq",
        "lt",
        "and",
        "or",
        "not",
        "json",
        "join",
        "split",
        "upper",
        "title",
        "pad",
        "truncate",
        "html",
        "js",
        "urlquery",
      ),
      fc.array(tie("arg") as fc.Arbitrary<string>, { maxLength: 3 }),
    )
    .map(([f, args]) => [f, ...args].join(" ")),
  pipeline: fc
    .tuple(
      fc.oneof(tie("field"), tie("call")) as fc.Arbitrary<string>,
      fc.array(tie("call") as fc.Arbitrary<string>, { maxLength: 2 }),
    )
    .map(([head, rest]) => [head, ...rest].join(" | ")),
  body: fc.array(tie("node") as fc.Arbitrary<string>, { maxLength: 3 }).map((n) => n.join("")),
  node: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom("text", ",", "\n"),
    tie("pipeline").map((p) => `{{${p}}}`),
    fc
      .tuple(tie("pipeline"), tie("body"))
      .map(([p, b]) => `{{range $i, $v := ${p}}}${b}{{else}}none{{end}}`),
    fc
      .tuple(tie("pipeline"), tie("body"), tie("body"))
      .map(([p, a, b]) => `{{if ${p}}}${a}{{else}}${b}{{end}}`),
    fc.tuple(tie("pipeline"), tie("body")).map(([p, b]) => `{{with ${p}}}${b}{{end}}`),
    tie("pipeline").map((p) => `{{$x := ${p}}}{{$x}}`),
  ) as fc.Arbitrary<string>,
})).body;

describe("GoTemplate (fuzzed)", () => {
  it("executes well-formed templates with typed errors only", () => {
    fc.assert(
      fc.property(wellFormed as fc.Arbitrary<string>, (text) => {
        const t = typedOnly(() => GoTemplate.parse(text));
        if (!t) return;
        typedOnly(() => t.execute(data));
        typedOnly(() => t.execute(data, { missingKey: "error" }));
      }),
      { ...params, numRuns: 2000 },
    );
  });

  it("parses and executes any text with typed errors only", () => {
    fc.assert(
      fc.property(templates, (text) => {
        const t = typedOnly(() => GoTemplate.parse(text));
        if (!t) return;
        typedOnly(() => t.execute(data));
        typedOnly(() => t.execute(data, { missingKey: "error" }));
        typedOnly(() => t.execute([data, null, 1, "s"]));
      }),
      params,
    );
  });

  it("executes parsed templates over arbitrary JSON data with typed errors only", () => {
    fc.assert(
      fc.property(action, fc.jsonValue({ maxDepth: 4 }), (text, value) => {
        const t = typedOnly(() => GoTemplate.parse(text));
        if (t) typedOnly(() => t.execute(value));
      }),
      { ...params, numRuns: 2000 },
    );
  });
});
