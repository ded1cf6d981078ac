import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DockerfileSyntaxError } from "../errors.js";
import { parseDockerfile } from "./dockerfile-parser.js";
import { createIgnoreMatcher } from "./dockerignore.js";
import { createShellWordExpander } from "./shell-word-expander.js";

const params = { seed: 20261127, numRuns: 400 };
const lex = createShellWordExpander();
const noEnv = new Map<string, string>();

/** Strings without line breaks (a Dockerfile value cannot hold one). */
const lineText = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s));
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/);

describe("properties of the Dockerfile parser and expander", () => {
  it("an escape character before every character yields the text itself", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
        const escaped = Array.from(s, (ch) => `\\${ch}`).join("");
        expect(lex.processWord(escaped, noEnv)).toBe(s);
      }),
      params,
    );
  });

  it("single quotes keep anything but a single quote literally", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((s) => !s.includes("'")),
        (s) => {
          expect(lex.processWord(`'${s}'`, noEnv)).toBe(s);
          expect(lex.processWords(`'${s}'`, noEnv)).toEqual(s === "" ? [] : [s]);
        },
      ),
      params,
    );
  });

  it("expands the :- :+ and - modifiers as docker documents", () => {
    fc.assert(
      fc.property(
        name,
        fc.option(lineText),
        fc.stringMatching(/^[a-z0-9 ]{0,8}$/),
        (v, value, w) => {
          const env = new Map(value === null ? [] : [[v, value]]);
          const set = value !== null && value !== "";
          expect(lex.processWord(`\${${v}:-${w}}`, env)).toBe(set ? value : w);
          expect(lex.processWord(`\${${v}:+${w}}`, env)).toBe(set ? w : "");
          expect(lex.processWord(`\${${v}-${w}}`, env)).toBe(value ?? w);
        },
      ),
      params,
    );
  });

  it("reads any JSON array of strings as the exec form", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 5 }), (argv) => {
        const df = parseDockerfile(
          `FROM a\nRUN ${JSON.stringify(argv)}\nCMD ${JSON.stringify(argv)}\n`,
        );
        const [run, cmd] = df.stages[0]!.instructions;
        expect(run).toMatchObject({ command: { kind: "exec", argv } });
        expect(cmd).toMatchObject({ command: { kind: "exec", argv } });
      }),
      params,
    );
  });

  it("round-trips ENV values written in double quotes", () => {
    fc.assert(
      fc.property(name, lineText, (key, value) => {
        const quoted = `"${value.replace(/["$\\]/g, "\\$&")}"`;
        const [env] = parseDockerfile(`FROM a\nENV ${key}=${quoted} other=1\n`).stages[0]!
          .instructions;
        expect(env).toMatchObject({ keyword: "ENV" });
        if (env?.keyword !== "ENV") return;
        expect(env.pairs.map((p) => p.key)).toEqual([key, "other"]);
        expect(lex.processWord(env.pairs[0]!.value, noEnv)).toBe(value);
      }),
      params,
    );
  });

  it("fails only with DockerfileSyntaxError, whatever the text", () => {
    const piece = fc.constantFrom(
      "FROM a\n",
      "RUN ",
      "COPY ",
      "ENV ",
      "ARG ",
      "ONBUILD ",
      "HEALTHCHECK ",
      "<<EOF",
      "EOF\n",
      "\\\n",
      "`",
      "'",
      '"',
      "${",
      "}",
      "[",
      "]",
      "--link",
      "--from=",
      "# escape=`\n",
      "\n",
      " ",
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 30 }),
        (parts) => {
          try {
            parseDockerfile(parts.join(""));
          } catch (err) {
            expect(err).toBeInstanceOf(DockerfileSyntaxError);
          }
        },
      ),
      { ...params, numRuns: 1000 },
    );
  });

  it("a .dockerignore path excludes itself and everything beneath, and ! takes it back", () => {
    const segment = fc.stringMatching(/^[a-z0-9._-]{1,6}$/).filter((s) => s !== "." && s !== "..");
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), segment, (dirs, leaf) => {
        const dir = dirs.join("/");
        const m = createIgnoreMatcher([dir]);
        expect(m.matches(dir)).toBe(true);
        expect(m.matches(`${dir}/${leaf}`)).toBe(true);
        expect(m.mustWalk(dir)).toBe(false);
        const back = createIgnoreMatcher([dir, `!${dir}/${leaf}`]);
        expect(back.matches(`${dir}/${leaf}`)).toBe(false);
        expect(back.mustWalk(dir)).toBe(true);
      }),
      params,
    );
  });
});
