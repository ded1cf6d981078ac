// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables are the subject of these tests
import { describe, expect, it } from "vitest";
import { DockerfileSyntaxError } from "../errors.js";
import { reversePattern } from "./shell-pattern.js";
import { createShellWordExpander, expandHeredoc, ShellLexer } from "./shell-word-expander.js";

const lex = createShellWordExpander();
const env = (o: Record<string, string>) => new Map(Object.entries(o));

/** The environment buildkit's envVarTest table runs with. */
const ENV = env({ PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "" });
const ERROR = Symbol("error");

/** [input, expected] from buildkit's shell/envVarTest (the platform-independent rows). */
const ENV_VAR_CASES: [string, string | typeof ERROR][] = [
  ["hello", "hello"],
  ["he'll'o", "hello"],
  ["he'llo", ERROR],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", ERROR],
  ["abc\\tdef", "abctdef"],
  ['"abc\\tdef"', "abc\\tdef"],
  ['"abc\\\\tdef"', "abc\\tdef"],
  ["'abc\\tdef'", "abc\\tdef"],
  ["hello\\", "hello"],
  ["hello\\\\", "hello\\"],
  ['"hello', ERROR],
  ['"hello\\"', ERROR],
  ['"hel\'lo"', "hel'lo"],
  ["'hello", ERROR],
  ["'hello\\'", "hello\\"],
  ["'hello\\there'", "hello\\there"],
  ["'hello\\\\there'", "hello\\\\there"],
  ["\"''\"", "''"],
  ["$.", "$."],
  ["he$1x", "hex"],
  ["he$.x", "he$.x"],
  ["he$pwd.", "he."],
  ["he$PWD", "he/home"],
  ["he\\$PWD", "he$PWD"],
  ["he\\\\$PWD", "he\\/home"],
  ['"he\\$PWD"', "he$PWD"],
  ['"he\\\\$PWD"', "he\\/home"],
  ["\\${}", "${}"],
  ["\\${}aaa", "${}aaa"],
  ["he\\${}", "he${}"],
  ["he\\${}xx", "he${}xx"],
  ["${}", ERROR],
  ["${}aaa", ERROR],
  ["he${}", ERROR],
  ["he${}xx", ERROR],
  ["he${hi}", "he"],
  ["he${hi}xx", "hexx"],
  ["he${PWD}", "he/home"],
  ["he${.}", ERROR],
  ["he${XXX:-000}xx", "he000xx"],
  ["he${PWD:-000}xx", "he/homexx"],
  ["he${XXX:-$PWD}xx", "he/homexx"],
  ["he${XXX:-${PWD:-yyy}}xx", "he/homexx"],
  ["he${XXX:-${YYY:-yyy}}xx", "heyyyxx"],
  ["he${XXX:YYY}", ERROR],
  ["he${XXX?}", ERROR],
  ["he${XXX:?}", ERROR],
  ["he${PWD?}", "he/home"],
  ["he${PWD:?}", "he/home"],
  ["he${NULL?}", "he"],
  ["he${NULL:?}", ERROR],
  ["he${XXX:+${PWD}}xx", "hexx"],
  ["he${PWD:+${XXX}}xx", "hexx"],
  ["he${PWD:+${SHELL}}xx", "hebashxx"],
  ["he${XXX:+000}xx", "hexx"],
  ["he${PWD:+000}xx", "he000xx"],
  ["'he${XX}'", "he${XX}"],
  ['"he${PWD}"', "he/home"],
  ["\"he'$PWD'\"", "he'/home'"],
  ['"$PWD"', "/home"],
  ["'$PWD'", "$PWD"],
  ["'\\$PWD'", "\\$PWD"],
  ["'\"hello\"'", '"hello"'],
  ["'he\\$PWD'", "he\\$PWD"],
  ["he${PWD", ERROR],
  ["he${PWD:=000}xx", ERROR],
  ["he${PWD:+${PWD}:}xx", "he/home:xx"],
  ["he${XXX:-\\$PWD:}xx", "he$PWD:xx"],
  ["he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"],
  ["안녕하세요", "안녕하세요"],
  ["안'녕'하세요", "안녕하세요"],
  ["안'녕하세요", ERROR],
  ["안녕\\'하세요", "안녕'하세요"],
  ["안녕\\t하세요", "안녕t하세요"],
  ['"안녕\\t하세요"', "안녕\\t하세요"],
  ["안녕$PWD", "안녕/home"],
  ["안녕${XXX:-${PWD:-yyy}}xx", "안녕/homexx"],
  ["$KOREAN", "한국어"],
  ["안녕$KOREAN", "안녕한국어"],
  ["${{aaa}", ERROR],
  ["${aaa}}", "}"],
  ["${aaa", ERROR],
  ["${{aaa:-bbb}", ERROR],
  ["${aaa:-bbb}}", "bbb}"],
  ["${aaa:-bbb", ERROR],
  ["${aaa:-bbb}", "bbb"],
  ["${aaa:-${bbb:-ccc}}", "ccc"],
  ["${aaa:-bbb ${foo}", ERROR],
  ["${aaa:-bbb {foo}", "bbb {foo"],
  ["${:}", ERROR],
  ["${:-bbb}", ERROR],
  ["${:+bbb}", ERROR],
  // Positional and special parameters are never set in a Dockerfile.
  ["$1", ""],
  ["${1}", ""],
  ["${1:+bbb}", ""],
  ["${1:-bbb}", "bbb"],
  ["$999aaa", "aaa"],
  ["${999:-bbb}aaa", "bbbaaa"],
  ["$001aaa", "aaa"],
  ["${001:-bbb}", "bbb"],
  ["$@", ""],
  ["$@@@", "@@"],
  ["$@aaa", "aaa"],
  ["${@:-bbb}aaa", "bbbaaa"],
  ["${*:-bbb}", "bbb"],
  ["${#}", ""],
  ["${#:+bbb}", ""],
  ["${#:-bbb}", "bbb"],
  ["${?:-bbb}", "bbb"],
  ["${-:-bbb}", "bbb"],
  ["$$", ""],
  ["${$:-bbb}", "bbb"],
  ["$!", ""],
  ["${0:-bbb}", "bbb"],
];

describe("ShellWordExpander.processWord (buildkit envVarTest)", () => {
  for (const [input, expected] of ENV_VAR_CASES) {
    it(`${input} → ${expected === ERROR ? "error" : JSON.stringify(expected)}`, () => {
      if (expected === ERROR) {
        expect(() => lex.processWord(input, ENV)).toThrow(DockerfileSyntaxError);
      } else {
        expect(lex.processWord(input, ENV)).toBe(expected);
      }
    });
  }
});

describe("Dockerfile reference: environment replacement", () => {
  it("expands $foo and ${foo} alike and keeps \\$foo literal", () => {
    const e = env({ FOO: "/bar" });
    expect(lex.processWord("${FOO}", e)).toBe("/bar");
    expect(lex.processWord("$FOO", e)).toBe("/bar");
    expect(lex.processWord("\\$FOO", e)).toBe("$FOO");
    expect(lex.processWord("\\${FOO}", e)).toBe("${FOO}");
    expect(lex.processWord("${FOO}_bar", e)).toBe("/bar_bar");
  });

  it("applies the documented modifiers", () => {
    const e = env({ str: "foobarbaz", set: "value", empty: "" });
    expect(lex.processWord("${unset:-word}", e)).toBe("word");
    expect(lex.processWord("${set:-word}", e)).toBe("value");
    expect(lex.processWord("${empty:-word}", e)).toBe("word");
    expect(lex.processWord("${empty-word}", e)).toBe("");
    expect(lex.processWord("${set:+word}", e)).toBe("word");
    expect(lex.processWord("${unset:+word}", e)).toBe("");
    expect(lex.processWord("${empty+word}", e)).toBe("word");
    expect(lex.processWord("${str#f*b}", e)).toBe("arbaz");
    expect(lex.processWord("${str##f*b}", e)).toBe("az");
    expect(lex.processWord("${str%b*}", e)).toBe("foobar");
    expect(lex.processWord("${str%%b*}", e)).toBe("foo");
    expect(lex.processWord("${str/ba/fo}", e)).toBe("fooforbaz");
    expect(lex.processWord("${str//ba/fo}", e)).toBe("fooforfoz");
  });

  it("fails ${v?msg} and ${v:?msg} with the message, expanded", () => {
    const e = env({ ARG: "x", EMPTY: "" });
    expect(() => lex.processWord("${VAR?message here$ARG}", e)).toThrow(
      'failed to process "${VAR?message here$ARG}": VAR: message herex',
    );
    expect(() => lex.processWord("${EMPTY:?}", e)).toThrow("EMPTY: is not allowed to be empty");
    expect(() => lex.processWord("${VAR?}", e)).toThrow("VAR: is not allowed to be unset");
    expect(lex.processWord("${EMPTY?no}", e)).toBe("");
  });
});

describe("pattern modifiers (buildkit TestProcessWithMatches)", () => {
  const cases: [string, Record<string, string>, string | typeof ERROR][] = [
    ["${FOO#()[]{\\}^$.\\*\\?|\\\\}", { FOO: "()[]{}^$.*?|\\x" }, "x"],
    ["${FOO%%\\**}", { FOO: "xx**" }, "xx"],
    ["${FOO#*x*y}", { FOO: "xxyy" }, "y"],
    ["${FOO#*}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO#$BAR}", { FOO: "xxyy", BAR: "x" }, "xyy"],
    ["${FOO#$BAR}", { FOO: "xxyy", BAR: "" }, "xxyy"],
    ["${FOO#}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO##*x}", { FOO: "xxyy" }, "yy"],
    ["${FOO##}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO#?\\?}", { FOO: "???y" }, "?y"],
    ["${ABC:-.}${FOO%x}${ABC:-.}", { FOO: "xxyy" }, ".xxyy."],
    ["${FOO%%\\**\\*}", { FOO: "a***yy*" }, "a"],
    ["${FOO%}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO%%$BAR}", { FOO: "xxyy", BAR: "" }, "xxyy"],
    ["${FOO:#}", {}, ERROR],
    ["${FOO:##}", {}, ERROR],
    ["${FOO:%}", {}, ERROR],
    ["${FOO:%%}", {}, ERROR],
    ["${FOO=aaa}", { FOO: "xxx" }, ERROR],
    ["${FOO=:aaa}", { FOO: "xxx" }, ERROR],
    ["${FOO=}", {}, ERROR],
    [
      "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
      { FOO: "/foo*/*/*.txt", NEEDLE: "\\*/" },
      "/foo.*/*.txt - /foo..*.txt",
    ],
    [
      "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
      { FOO: "/tmp/tmp/bar.txt", NEEDLE: "/tmp" },
      "/tmp/bar.txt - /bar.txt",
    ],
    [
      "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
      { FOO: "/a/foo/b/c.txt", NEEDLE: "/?/", REPLACEMENT: "/" },
      "/foo/b/c.txt - /foo/c.txt",
    ],
    [
      "${FOO/$NEEDLE/$REPLACEMENT}",
      { FOO: "http://google.de", NEEDLE: "http://", REPLACEMENT: "https://" },
      "https://google.de",
    ],
    ["${FOO//\\//\\/}", { FOO: "/tmp/foo.txt" }, "\\/tmp\\/foo.txt"],
    ["${FOO/$BAR/ww}", { FOO: "xxyy", BAR: "" }, "wwxxyy"],
    ["${FOO//ww}", { FOO: "xxyy" }, ERROR],
    ["${FOO//}", { FOO: "xxyy" }, ERROR],
    ["${FOO///}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO///}", {}, ""],
    ["${FOO#\\x}", { FOO: "xy" }, ERROR],
    [
      "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
      { VERSION: "v1.2.3", TARGETOS: "linux", TARGETARCH: "arm", TARGETVARIANT: "v7" },
      "something-v1.2.3.linux-arm-v7.tar.gz",
    ],
    [
      "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
      { VERSION: "v1.2.3", TARGETOS: "linux", TARGETARCH: "arm64", TARGETVARIANT: "" },
      "something-v1.2.3.linux-arm64.tar.gz",
    ],
  ];
  for (const [input, vars, expected] of cases) {
    it(`${input} with ${JSON.stringify(vars)}`, () => {
      if (expected === ERROR) {
        expect(() => lex.processWord(input, env(vars))).toThrow(DockerfileSyntaxError);
      } else {
        expect(lex.processWord(input, env(vars))).toBe(expected);
      }
    });
  }

  it("reverses patterns keeping escapes paired", () => {
    expect(reversePattern("a\\*c")).toBe("c\\*a");
    expect(reversePattern("\\\\\\ab")).toBe("b\\a\\\\");
    expect(reversePattern("ab\\")).toBe("\\ba");
    expect(reversePattern("👽\\🚀🖖")).toBe("🖖\\🚀👽");
  });
});

describe("ShellWordExpander.processWords (buildkit wordsTest)", () => {
  const e = env({ hi: "hi", space: "abc  def", leading: "  ab c", trailing: "ab c   " });
  const cases: [string, string[] | typeof ERROR][] = [
    ["hello", ["hello"]],
    ["hello${hi}bye", ["hellohibye"]],
    ["hello${space}bye", ["helloabc", "defbye"]],
    ['hello"${space}"bye', ["helloabc  defbye"]],
    ['hello "${space}"bye', ["hello", "abc  defbye"]],
    ["hello${leading}def", ["hello", "ab", "cdef"]],
    ['hello"${leading}" def', ["hello  ab c", "def"]],
    ['hello"${leading}"', ["hello  ab c"]],
    ["hello${leading}", ["hello", "ab", "c"]],
    ["hello${trailing}", ["helloab", "c"]],
    ["hello${trailing}d", ["helloab", "c", "d"]],
    ['hello"${trailing}"d', ["helloab c   d"]],
    ['hel"lo${trailing}"', ["helloab c   "]],
    ['hello" there  "', ["hello there  "]],
    ["hello there     ", ["hello", "there"]],
    ["hello\\ there", ["hello there"]],
    ['hello" there', ERROR],
    ['hello\\" there', ['hello"', "there"]],
    ['hello"\\\\there"', ["hello\\there"]],
    ['hello"\\there"', ["hello\\there"]],
    ["hello'\\\\there'", ["hello\\\\there"]],
    ["hello'\\there'", ["hello\\there"]],
    ["hello'$there'", ["hello$there"]],
    ['""', []],
    ["ab${unset:-y}", ["aby"]],
    ["a <<  EOF b", ["a", "<<  EOF", "b"]],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected === ERROR ? "error" : JSON.stringify(expected)}`, () => {
      if (expected === ERROR) {
        expect(() => lex.processWords(input, e)).toThrow(DockerfileSyntaxError);
      } else {
        expect(lex.processWords(input, e)).toEqual(expected);
      }
    });
  }
});

describe("ShellLexer options", () => {
  it("uses the backtick as escape character under `# escape=``", () => {
    const tick = createShellWordExpander("`");
    expect(tick.processWord("c:\\path\\to", env({}))).toBe("c:\\path\\to");
    expect(tick.processWord("`$FOO", env({ FOO: "x" }))).toBe("$FOO");
    expect(tick.processWord('"a`"b"', env({}))).toBe('a"b');
  });

  it("keeps unset variables and raw quotes when asked (heredoc detection)", () => {
    const raw = new ShellLexer("\\", { skipUnsetEnv: true, rawQuotes: true });
    expect(raw.processWord("$A ${B} ${C:-x} ${D/a/b}", env({}))).toBe("$A ${B} ${C:-x} ${D/a/b}");
    expect(raw.processWords("<<'EOF' \"x\"", env({}))).toEqual(["<<'EOF'", '"x"']);
  });

  it("names the word in errors, as docker does", () => {
    expect(() => lex.processWord("he${}", env({}))).toThrow(
      'failed to process "he${}": syntax error: bad substitution',
    );
    expect(() => lex.processWord("'open", env({}))).toThrow(
      "unexpected end of statement while looking for matching single-quote",
    );
    expect(() => lex.processWord("${a:-b", env({}))).toThrow("syntax error: missing '}'");
    expect(() => lex.processWord("${a/b", env({}))).toThrow("syntax error: missing '/' in ${}");
    expect(() => lex.processWord("${a:x}", env({}))).toThrow(
      "unsupported modifier (:x) in substitution",
    );
  });
});

describe("expandHeredoc", () => {
  it("expands variables and escapes in a heredoc body but leaves quotes alone", () => {
    const body = "echo \"hello ${FOO}\"\n'$BAR' \\$X ${NONE:-d}\n";
    expect(expandHeredoc(body, env({ FOO: "world", BAR: "bar" }))).toBe(
      "echo \"hello world\"\n'bar' $X d\n",
    );
  });
});
