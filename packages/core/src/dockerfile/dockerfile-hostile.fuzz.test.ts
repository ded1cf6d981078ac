// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables are the subject of these tests
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParams, typedOnly } from "../util/fuzz-support.js";
import { parseDockerfile } from "./dockerfile-parser.js";
import { createIgnoreMatcher, parseDockerignore } from "./dockerignore.js";
import { parseGoDuration } from "./go-duration.js";
import { createShellWordExpander, expandHeredoc } from "./shell-word-expander.js";

/**
 * Hostile inputs for the Dockerfile parser, the shell-word expander, durations and
 * `.dockerignore` (the parser's own properties are in `dockerfile-properties.test.ts`):
 * every instruction and flag, heredocs, nested substitutions with pattern modifiers,
 * exec forms of odd JSON, numbers too big for Go, control characters. Only typed errors
 * (StrataError subclasses) may come out. Fixed seed (STRATA_FUZZ_SEED explores others);
 * runs sized to keep each property near a second.
 */
const params = fuzzParams(1500);

const keyword = fc.constantFrom(
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "MAINTAINER",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
  "from",
  "Run",
  "NOPE",
);
const flag = fc.constantFrom(
  "--from=a",
  "--from=",
  "--chown=1:1",
  "--chmod=0755",
  "--chmod=9999999999999999999",
  "--link",
  "--link=false",
  "--parents",
  "--exclude=*.go",
  "--checksum=sha256:00",
  "--keep-git-dir=true",
  "--platform=$TARGETPLATFORM",
  "--platform=linux/amd64",
  "--mount=type=cache,target=/x",
  "--mount=type=bind,source=/../../etc,target=/x",
  "--network=none",
  "--security=insecure",
  "--interval=1e400s",
  "--interval=9999999999999999h",
  "--timeout=-1s",
  "--start-period=1.5.5s",
  "--retries=-1",
  "--retries=99999999999999999999",
  "--start-interval=0s",
  "--",
  "--=",
  "-",
);
const word = fc.oneof(
  fc.constantFrom(
    "a",
    "/x",
    "../../etc/passwd",
    "$A",
    "${A}",
    "${A:-${B:+c}}",
    "${A:?err}",
    "${A?}",
    "${A#*/}",
    "${A##*}",
    "${A%.*}",
    "${A%%[}",
    "${A/b/c}",
    "${A//[/x}",
    "${#A}",
    "${!A}",
    "${A:0:1}",
    "${",
    "$",
    "\\",
    "\\$A",
    "'a b'",
    '"a $A b"',
    '"unterminated',
    "'unterminated",
    "`",
    "[]",
    '["a","b"]',
    '["a",1]',
    '[{"x":1}]',
    '["a"',
    '["\\u0000"]',
    "<<EOF",
    "<<-EOF",
    '<<"EOF"',
    "<<EOF <<END",
    "A=1",
    "A=",
    "=1",
    'A="x y"',
    "80/tcp",
    "99999999/udp",
    "SIGKILL",
    "NONE",
    "CMD",
    "\t",
    "\u00a0",
    "\u2028",
    "\0",
  ),
  fc.string({ maxLength: 6 }),
);
const line = fc
  .tuple(
    keyword,
    fc.array(flag, { maxLength: 2 }),
    fc.array(word, { maxLength: 4 }),
    fc.constantFrom("\n", "\r\n", " \\\n", "\\\n", "\n\n", "\nEOF\n", "\n#comment\n"),
  )
  .map(([k, flags, words, end]) => `${[k, ...flags, ...words].join(" ")}${end}`);
const dockerfile = fc
  .tuple(
    fc.constantFrom(
      "",
      "# escape=`\n",
      "# escape=\\\n",
      "# escape=x\n",
      "# syntax=docker/dockerfile:1\n",
      "# check=skip=all\n",
      "\uFEFF",
      "# escape=`\n# escape=\\\n",
    ),
    fc.array(line, { maxLength: 10 }),
  )
  .map(([head, lines]) => head + lines.join(""));

describe("Dockerfile parser and expander (hostile, fuzzed)", () => {
  it("parses any mix of instructions, flags, heredocs and words with typed errors only", () => {
    fc.assert(
      fc.property(dockerfile, (text) => {
        typedOnly(() => parseDockerfile(text));
      }),
      params,
    );
  });

  it("expands any word against any environment with typed errors only", () => {
    const env = fc
      .dictionary(
        fc.constantFrom("A", "B", "PATH", "HOME", "_", "a1"),
        fc.oneof(word, fc.string({ maxLength: 8 })),
      )
      .map((d) => new Map(Object.entries(d)));
    const text = fc.oneof(
      fc.array(word, { maxLength: 5 }).map((w) => w.join("")),
      fc.string({ unit: "binary", maxLength: 30 }),
    );
    for (const escapeToken of ["\\", "`"] as const) {
      const lex = createShellWordExpander(escapeToken);
      fc.assert(
        fc.property(text, env, (t, e) => {
          const one = typedOnly(() => lex.processWord(t, e));
          if (one !== undefined) expect(typeof one).toBe("string");
          const many = typedOnly(() => lex.processWords(t, e));
          if (many !== undefined) expect(many.every((w) => typeof w === "string")).toBe(true);
          typedOnly(() => expandHeredoc(t, e));
        }),
        { ...params, numRuns: 1000 },
      );
    }
  });

  it("parses durations and .dockerignore patterns with typed errors only", () => {
    const duration = fc.oneof(
      fc.stringMatching(/^[-+]?[0-9.]{0,25}(ns|us|µs|ms|s|m|h|d|x)?([0-9.]{0,5}(s|m|h))?$/),
      fc.string({ maxLength: 10 }),
    );
    fc.assert(
      fc.property(duration, (d) => {
        const n = typedOnly(() => parseGoDuration(d));
        if (n !== undefined) expect(Number.isFinite(n)).toBe(true);
      }),
      params,
    );
    const pattern = fc
      .array(
        fc.constantFrom(
          "*",
          "**",
          "?",
          "[",
          "]",
          "[!a-z]",
          "[^",
          "\\",
          "!",
          "/",
          "..",
          ".",
          "a",
          "-",
          "{",
          "}",
          "(",
          "+",
          "$",
        ),
        {
          maxLength: 8,
        },
      )
      .map((p) => p.join(""));
    const path = fc
      .array(fc.constantFrom("a", "b", "..", ".", "[", "*", "x.go", ""), { maxLength: 5 })
      .map((p) => p.join("/"));
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), path, (patterns, p) => {
        const m = typedOnly(() => createIgnoreMatcher(parseDockerignore(patterns.join("\n"))));
        if (!m) return;
        typedOnly(() => m.matches(p));
        typedOnly(() => m.mustWalk(p));
      }),
      params,
    );
  });
});
