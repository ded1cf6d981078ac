import { describe, expect, it } from "vitest";
import { DOCKER_HEADER_FUNCS, GoTemplate, GoTemplateError } from "./go-template.js";
import { executeInspectTemplate } from "./go-template-inspect.js";
import { GoNil, goMap, goStruct } from "./go-template-values.js";

/** An image as `docker image inspect` shows it (trimmed). */
const image = {
  Id: "sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741",
  RepoTags: ["busybox:latest", "busybox:1.36"],
  RepoDigests: [],
  Parent: "",
  Comment: "",
  Created: "2023-07-18T23:19:33.655005962Z",
  Author: "",
  Config: {
    Hostname: "",
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    Cmd: ["sh"],
    Entrypoint: null,
    Labels: { "org.opencontainers.image.version": "1.36", maintainer: "me <me@x.org>" },
    ExposedPorts: { "80/tcp": {} },
    Healthcheck: null,
  },
  Architecture: "amd64",
  Os: "linux",
  Size: 4261550,
  GraphDriver: { Data: null, Name: "vfs" },
  RootFS: {
    Type: "layers",
    Layers: [
      "sha256:3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f",
      "sha256:aaaa",
    ],
  },
};

function run(text: string, data: unknown = image): string {
  return GoTemplate.parse(text).execute(data);
}

function inspect(text: string, doc: unknown = image): string {
  return executeInspectTemplate(GoTemplate.parse(text), doc);
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GoTemplateError);
    return (err as Error).message;
  }
  throw new Error("no error");
}

describe("docker's documented template examples", () => {
  it("prints a slice field with Go's %v ({{.Config.Env}})", () => {
    expect(inspect("{{.Config.Env}}")).toBe(
      "[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]",
    );
  });

  it("encodes JSON with sorted map keys and no HTML escaping ({{json .Config.Labels}})", () => {
    expect(inspect("{{json .Config.Labels}}")).toBe(
      '{"maintainer":"me <me@x.org>","org.opencontainers.image.version":"1.36"}',
    );
    expect(inspect("{{json .RootFS}}")).toBe(
      `{"Type":"layers","Layers":["${image.RootFS.Layers[0]}","sha256:aaaa"]}`,
    );
    expect(inspect("{{json .Config.Entrypoint}}")).toBe("null");
  });

  it("ranges over a list ({{range .RootFS.Layers}}…{{end}})", () => {
    expect(inspect("{{range .RootFS.Layers}}{{println .}}{{end}}")).toBe(
      `${image.RootFS.Layers[0]}\nsha256:aaaa\n`,
    );
  });

  it('indexes a map by a key with dots ({{index .Config.Labels "k"}})', () => {
    expect(inspect('{{index .Config.Labels "org.opencontainers.image.version"}}')).toBe("1.36");
    expect(inspect('{{index .Config.Labels "nope"}}')).toBe("");
  });

  it("joins, splits, changes case, pads and truncates (docker's functions)", () => {
    expect(inspect('{{join .RepoTags ","}}')).toBe("busybox:latest,busybox:1.36");
    expect(inspect('{{split .Id ":"}}')).toBe(`[sha256 ${image.Id.slice(7)}]`);
    expect(inspect('{{.Os | upper}} {{lower "ABC"}} {{title "hello wide world"}}')).toBe(
      "LINUX abc Hello Wide World",
    );
    expect(inspect('[{{pad .Os 2 3}}][{{pad "" 2 3}}]')).toBe("[  linux   ][]");
    expect(inspect("{{truncate .Id 12}} {{truncate .Os 99}}")).toBe("sha256:3f57d linux");
  });

  it('formats with printf ({{printf "%-10s" .ID}})', () => {
    expect(run('{{printf "%-10s|%10s|" .ID .ID}}', { ID: "abc" })).toBe("abc       |       abc|");
  });

  it("prints <no value> and [] for unset typed values, as docker's typed pass does", () => {
    expect(inspect("{{.Config.Labels.nope}}")).toBe("<no value>");
    expect(inspect("{{.Config.Entrypoint}} {{.GraphDriver.Data}} {{.Config.Healthcheck}}")).toBe(
      "[] map[] <nil>",
    );
    expect(inspect("{{range .Config.Entrypoint}}x{{else}}none{{end}}")).toBe("none");
    expect(inspect("{{.Config.ExposedPorts}}")).toBe("map[80/tcp:{}]");
  });

  it("reports a missing key with docker's message", () => {
    expect(errorOf(() => inspect("{{.Foo}}"))).toBe(
      'template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"',
    );
    expect(errorOf(() => inspect("x\n  {{.Config.Nope}}"))).toBe(
      'template: :2:11: executing "" at <.Config.Nope>: map has no entry for key "Nope"',
    );
    expect(errorOf(() => inspect("{{.Config.Healthcheck.Test}}"))).toBe(
      'template: :1:9: executing "" at <.Config.Healthcheck.Test>: nil pointer evaluating interface {}.Test',
    );
  });

  it("keeps what was printed before an execution error (docker's table headers use it)", () => {
    try {
      GoTemplate.parse("a{{.X}}b{{.Y.Z 1}}c").execute({ X: 1, Y: { Z: 2 } });
      throw new Error("no error");
    } catch (err) {
      expect((err as GoTemplateError).partial).toBe("a1b");
    }
  });

  it("renders a table header with docker's header functions", () => {
    const t = GoTemplate.parse("{{.Repository | upper}}\t{{json .Tag}}\t{{truncate .ID 3}}");
    const header = { Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID" };
    expect(t.execute(header, { funcs: DOCKER_HEADER_FUNCS })).toBe("REPOSITORY\tTAG\tIMAGE ID");
  });
});

describe("Go's text/template semantics", () => {
  const data = {
    Name: "web",
    Count: 3,
    Zero: 0,
    Empty: "",
    List: ["a", "b", "c"],
    Nums: [3, 1, 2],
    Map: { z: 1, a: 2, m: 3 },
    Nested: { Inner: { Deep: "yes" }, List: [{ X: 1 }, { X: 2 }] },
    Matrix: [
      [1, 2],
      [3, 4],
    ],
    True: true,
    Null: null,
    None: [],
  };
  const cases: [string, string][] = [
    ["plain text", "plain text"],
    ["{{.Name}}", "web"],
    ["{{.Nested.Inner.Deep}}", "yes"],
    [
      "{{$}}",
      "map[Count:3 Empty: List:[a b c] Map:map[a:2 m:3 z:1] Matrix:[[1 2] [3 4]] Name:web Nested:map[Inner:map[Deep:yes] List:[map[X:1] map[X:2]]] None:[] Null:<nil> Nums:[3 1 2] True:true Zero:0]",
    ],
    ["{{.Null}}", "<no value>"],
    ["{{.Missing}}", "<no value>"],
    ["{{.Missing.Deeper}}", "<no value>"],
    // pipelines and parentheses
    ['{{.Name | printf "%s!"}}', "web!"],
    ['{{.Name | printf "%s-%s" "x"}}', "x-web"],
    ["{{(index .Nested.List 1).X}}", "2"],
    ["{{index .Matrix 1 0}}", "3"],
    ["{{len (index .Matrix 0)}}", "2"],
    ["{{(.Nested).Inner.Deep}}", "yes"],
    // variables
    ["{{$x := .Count}}{{$x}}", "3"],
    ["{{$x := 1}}{{$x = 2}}{{$x}}", "2"],
    ["{{$x := 1}}{{if true}}{{$x = 5}}{{end}}{{$x}}", "5"],
    ["{{with $x := .Name}}{{$x}}{{$}}{{end}}".replace("{{$}}", ""), "web"],
    ["{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}", "0=a 1=b 2=c "],
    ["{{range $e := .List}}{{$e}}{{end}}", "abc"],
    ["{{range $k, $v := .Map}}{{$k}}{{$v}}{{end}}", "a2m3z1"],
    ["{{range .Map}}{{.}}{{end}}", "231"],
    ["{{range .Nested.List}}{{.X}}{{$.Name}}{{end}}", "1web2web"],
    ['{{range .List}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', "ac"],
    ['{{range .List}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', "a"],
    ["{{range .None}}x{{else}}empty{{end}}", "empty"],
    ["{{range .Missing}}x{{else}}none{{end}}", "none"],
    ["{{range 3}}{{.}}{{end}}", "012"],
    // if / else if / else, with
    ["{{if .Count}}yes{{end}}", "yes"],
    ["{{if .Zero}}yes{{else}}no{{end}}", "no"],
    ["{{if .Empty}}a{{else if .Zero}}b{{else if .List}}c{{else}}d{{end}}", "c"],
    ["{{if not .Empty}}empty{{end}}", "empty"],
    ["{{with .Nested.Inner}}{{.Deep}}{{end}}", "yes"],
    ["{{with .Empty}}x{{else}}fallback{{end}}", "fallback"],
    ["{{with .Empty}}x{{else with .Name}}{{.}}{{end}}", "web"],
    // comparisons and logic
    [
      "{{eq .Count 3}} {{ne .Count 3}} {{lt .Count 4}} {{le 3 3}} {{gt 2 3}} {{ge 3 3}}",
      "true false true true false true",
    ],
    ['{{eq .Name "x" "web"}}', "true"],
    ['{{lt "a" "b"}}', "true"],
    ['{{eq .Missing "x"}}', "false"],
    ['{{and 1 0 2}} {{and 1 2}} {{or 0 "" 3}} {{or 0 ""}}', "0 2 3 "],
    ["{{and .Empty .Missing.Deeper}}", ""],
    ["{{if and .Count (gt .Count 1)}}big{{end}}", "big"],
    // len, index, slice
    ['{{len .List}} {{len .Map}} {{len .Name}} {{len "héllo"}}', "3 3 3 6"],
    ['{{index .Map "m"}} {{index .List 2}} {{index "abc" 1}}', "3 c 98"],
    ['{{index .Map "nope"}}', "<no value>"],
    ["{{slice .List 1}} {{slice .List 1 2}} {{slice .Name 1 3}}", "[b c] [b] eb"],
    // print family
    ['{{print 1 2 "a" "b" 3}}', "1 2ab3"],
    ['{{println "a" 1}}', "a 1\n"],
    ["{{print nil}}", "<nil>"],
    [
      '{{printf "%d %5.2f %x %X %o %b %c %q %U" 42 3.14159 255 255 8 5 65 "a\\"b" 0x1F600}}',
      '42  3.14 ff FF 10 101 A "a\\"b" U+1F600',
    ],
    [
      '{{printf "%v %+v %T %T %T" .Nested.Inner .Nested.Inner .Count .List .Name}}',
      "map[Deep:yes] map[Deep:yes] int []string string",
    ],
    ['{{printf "%05d|%-5d|%+d|% d|%x" 42 42 42 42 "hi"}}', "00042|42   |+42| 42|6869"],
    ['{{printf "%s %d" 1 "x"}}', "%!s(int=1) %!d(string=x)"],
    ['{{printf "%s %s" "a"}}', "a %!s(MISSING)"],
    ['{{printf "%s" "a" 1}}', "a%!(EXTRA int=1)"],
    [
      '{{printf "%e %g %g %g %v" 123456.789 0.00001234 1e21 100000.0 1e6}}',
      "1.234568e+05 1.234e-05 1e+21 100000 1e+06",
    ],
    ['{{printf "%.3s|%8.3f|%-8.1e|" "abcdef" 2.5 1234.5}}', "abc|   2.500|1.2e+03 |"],
    ['{{printf "%.0f %.0f %.1f" 0.5 1.5 0.25}}', "0 2 0.2"],
    ['{{printf "%v %d" .List .Nums}}', "[a b c] [3 1 2]"],
    ['{{printf "%q" .List}}', '["a" "b" "c"]'],
    ['{{printf "%%"}}', "%"],
    // constants
    [
      "{{1.0}} {{1e6}} {{.5}} {{0x10}} {{'a'}} {{-3}} {{1_000}} {{\"a\\tb\"}} {{`raw\\n`}}",
      "1 1e+06 0.5 16 97 -3 1000 a\tb raw\\n",
    ],
    ["{{true}} {{false}}", "true false"],
    // html, js, urlquery
    ["{{html \"<a href='x'>&</a>\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"],
    ['{{js "it\'s <b>"}}', "it\\'s \\u003Cb\\u003E"],
    ['{{urlquery "a b&c=d/é"}}', "a+b%26c%3Dd%2F%C3%A9"],
    // whitespace trimming and comments
    ["a  {{- .Name -}}  b", "awebb"],
    ["a\n\t{{- /* comment */ -}}\n  b", "ab"],
    ["{{/* only a comment */}}x", "x"],
    ["{{- .Name}}\n", "web\n"],
    ["{{.Count -}} {{- .Count}}", "33"],
    ["{{3 -}} {{- -1}}", "3-1"],
    // define / template / block
    ['{{define "T"}}<{{.}}>{{end}}{{template "T" .Name}}{{template "T" 1}}', "<web><1>"],
    ['{{block "B" .Count}}[{{.}}]{{end}}', "[3]"],
  ];
  it.each(cases)("%s", (text, want) => {
    expect(run(text, data)).toBe(want);
  });

  it("treats marked structs as structs: unknown fields are errors", () => {
    const row = goStruct({ ID: "abc", Size: "1MB" }, "*formatter.imageContext");
    expect(run("{{.ID}} {{.Size}}", row)).toBe("abc 1MB");
    expect(errorOf(() => run("{{.Nope}}", row))).toBe(
      'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext',
    );
    expect(run("{{json .}}", goStruct({ B: "1", A: "2" }, "t"))).toBe('{"B":"1","A":"2"}');
    expect(run("{{json .}}", goStruct({ B: "1", A: "2" }, "t", { jsonAsMap: true }))).toBe(
      '{"A":"2","B":"1"}',
    );
    expect(run("{{.}}", goStruct({ B: "1", A: 2 }, "t"))).toBe("{1 2}");
    expect(run('{{printf "%+v" .}}', goStruct({ B: "1", A: 2 }, "t"))).toBe("{B:1 A:2}");
  });

  it('calls methods of structs with their arguments (docker\'s {{.Label "k"}})', () => {
    const labels: Record<string, string> = { app: "web" };
    const row = goStruct(
      { Names: "c1", Label: (name: unknown) => labels[name as string] ?? "" },
      "*formatter.ContainerContext",
    );
    expect(run('{{.Label "app"}}|{{.Label "nope"}}|{{json .}}', row)).toBe('web||{"Names":"c1"}');
    expect(errorOf(() => run("{{.Label}}", row))).toBe(
      'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0',
    );
  });

  it("honours missingkey=zero for string maps", () => {
    const m = goMap({ a: "1" }, "map[string]string", "string");
    expect(GoTemplate.parse("[{{.b}}]").execute(m, { missingKey: "zero" })).toBe("[]");
    expect(run("{{.b}}", m)).toBe("<no value>");
  });

  it("prints typed nils as Go does", () => {
    expect(run("{{.}}", new GoNil("slice"))).toBe("[]");
    expect(run("{{.}} {{len .}}", new GoNil("map"))).toBe("map[] 0");
    expect(run("{{.}}", new GoNil("pointer"))).toBe("<nil>");
  });
});

describe("errors with Go's wording", () => {
  const parseErrors: [string, string][] = [
    ["{{.Foo", "template: :1: unclosed action"],
    ["{{.Foo}", "template: :1: bad character U+007D '}'"],
    ["{{foo}}", 'template: :1: function "foo" not defined'],
    ["{{if .X}}", "template: :1: unexpected EOF"],
    ["a\n{{end}}", "template: :2: unexpected {{end}}"],
    ["{{else}}", "template: :1: unexpected {{else}}"],
    ["{{$x}}", 'template: :1: undefined variable "$x"'],
    ["{{}}", "template: :1: missing value for command"],
    ['{{"abc}}', "template: :1: unterminated quoted string"],
    ["{{/* x }}", "template: :1: unclosed comment"],
    ["{{/* x */ .}}", "template: :1: comment ends before closing delimiter"],
    ["{{(.X}}", "template: :1: unclosed left paren"],
    ["{{.X)}}", "template: :1: unexpected right paren"],
    ["{{break}}", "template: :1: {{break}} outside {{range}}"],
    ["{{.X | 3}}", "template: :1: non executable command in pipeline stage 2"],
    ["{{3.X}}", 'template: :1: bad number syntax: "3.X"'],
    ["{{true.X}}", 'template: :1: unexpected . after term "true"'],
    ["{{range $a, $b, $c := .}}{{end}}", "template: :1: too many declarations in range"],
    ["{{@}}", 'template: :1: unexpected "@" in command'],
  ];
  it.each(parseErrors)("parse %s", (text, want) => {
    const err = (() => {
      try {
        GoTemplate.parse(text);
      } catch (e) {
        return e as GoTemplateError;
      }
      throw new Error("parsed");
    })();
    expect(err).toBeInstanceOf(GoTemplateError);
    expect(err.phase).toBe("parse");
    expect(err.message).toBe(want);
  });

  const execErrors: [string, string][] = [
    [
      "{{index .List 5}}",
      'template: :1:2: executing "" at <index .List 5>: error calling index: index out of range: 5',
    ],
    ["{{upper 1}}", 'template: :1:8: executing "" at <1>: expected string; found 1'],
    [
      "{{upper .N}}",
      'template: :1:8: executing "" at <.N>: wrong type for value; expected string; got int',
    ],
    [
      "{{.N | upper}}",
      'template: :1:7: executing "" at <upper>: wrong type for value; expected string; got int',
    ],
    [
      '{{join .Mixed ","}}',
      'template: :1:7: executing "" at <.Mixed>: wrong type for value; expected []string; got []interface {}',
    ],
    ["{{len .N}}", 'template: :1:2: executing "" at <len .N>: error calling len: len of type int'],
    [
      '{{eq .N "1"}}',
      'template: :1:2: executing "" at <eq .N "1">: error calling eq: incompatible types for comparison',
    ],
    [
      "{{lt true false}}",
      'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison',
    ],
    [
      "{{range .N.X}}{{end}}",
      'template: :1:10: executing "" at <.N.X>: can\'t evaluate field X in type int',
    ],
    ["{{range .S}}{{end}}", 'template: :1:8: executing "" at <.S>: range can\'t iterate over str'],
    ["{{.S 1}}", 'template: :1:2: executing "" at <.S>: S is not a method but has arguments'],
    ["{{1 2}}", 'template: :1:2: executing "" at <1>: can\'t give argument to non-function 1'],
    [
      '{{template "nope"}}',
      'template: :1:11: executing "" at <{{template "nope"}}>: no such template "nope"',
    ],
    ["{{printf 1}}", 'template: :1:9: executing "" at <1>: expected string; found 1'],
    ['{{truncate .S "2"}}', 'template: :1:14: executing "" at <"2">: expected integer; found "2"'],
  ];
  it.each(execErrors)("execute %s", (text, want) => {
    const data = { List: ["a"], N: 1, S: "str", Mixed: ["a", 1] };
    const err = errorOf(() => run(text, data));
    expect(err).toBe(want);
  });
});
