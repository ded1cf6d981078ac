// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables are the subject of these tests
import { describe, expect, it } from "vitest";
import { DockerfileSyntaxError, InvalidArgumentError } from "../errors.js";
import { instructionCreatesLayer, parseDockerfile } from "./dockerfile-parser.js";
import type { Dockerfile, Instruction } from "./dockerfile-types.js";

/** The instructions of the only (or given) stage. */
function steps(text: string, stage = 0): Instruction[] {
  return [...parseDockerfile(text).stages[stage]!.instructions];
}

function one(text: string): Instruction {
  const all = steps(`FROM scratch\n${text}`);
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** The DockerfileSyntaxError `text` raises. */
function syntaxError(text: string): DockerfileSyntaxError {
  try {
    parseDockerfile(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileSyntaxError);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as DockerfileSyntaxError;
  }
  throw new Error(`parsed without error: ${JSON.stringify(text)}`);
}

describe("parseDockerfile: the seed's Dockerfile", () => {
  it("reads instructions case-insensitively", () => {
    const df = parseDockerfile("from ubuntu:latest\nENV HOSTNAME=shiyanlou\n");
    expect(df.stages).toHaveLength(1);
    const stage = df.stages[0]!;
    expect(stage.from).toMatchObject({ keyword: "FROM", image: "ubuntu:latest", line: 1 });
    expect(stage.name).toBeUndefined();
    expect(stage.instructions).toEqual([
      {
        keyword: "ENV",
        line: 2,
        endLine: 2,
        original: "ENV HOSTNAME=shiyanlou",
        flags: [],
        pairs: [{ key: "HOSTNAME", value: "shiyanlou" }],
      },
    ]);
    expect(df.directives).toEqual({ escape: "\\", syntax: undefined });
    expect(df.warnings).toEqual([]);
  });
});

describe("parser directives", () => {
  it("switches the escape character with # escape=`", () => {
    const df = parseDockerfile(
      "# escape=`\n\nFROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\n",
    );
    expect(df.directives.escape).toBe("`");
    const [copy, run] = df.stages[0]!.instructions;
    expect(copy).toMatchObject({ keyword: "COPY", sources: ["testfile.txt"], dest: "c:\\" });
    expect(run).toMatchObject({ command: { kind: "shell", command: "dir c:\\" } });
  });

  it("continues lines with the backtick under escape=`", () => {
    const run = steps("# escape=`\nFROM a\nRUN echo a `\n  b\n")[0]!;
    expect(run).toMatchObject({ command: { command: "echo a   b" }, line: 3, endLine: 4 });
  });

  it("treats an escaped escape character at the end of a line as no continuation", () => {
    const [copy, run] = steps("FROM a\nCOPY testfile.txt c:\\\\\nRUN dir c:\\\n");
    expect(copy).toMatchObject({ dest: "c:\\\\" });
    expect(run).toMatchObject({ command: { command: "dir c:" } });
  });

  it("ignores # syntax= with a warning", () => {
    const df = parseDockerfile("# syntax=docker/dockerfile:1\nFROM a\n");
    expect(df.directives.syntax).toBe("docker/dockerfile:1");
    expect(df.warnings.join("\n")).toMatch(/syntax=docker\/dockerfile:1.*ignored/);
  });

  it("accepts the documented whitespace variants and any case", () => {
    for (const d of [
      "#escape=`",
      "# escape =`",
      "#\tescape= `",
      "# escape = `",
      "#\t  eScApE=`",
      "  # escape=`",
    ]) {
      expect(parseDockerfile(`${d}\nFROM a\n`).directives.escape).toBe("`");
    }
  });

  it("reads directives only at the very top, before anything else", () => {
    for (const text of [
      "FROM a\n# escape=`\n",
      "# About my dockerfile\n# escape=`\nFROM a\n",
      "\n# escape=`\nFROM a\n",
      "# unknowndirective=value\n# escape=`\nFROM a\n",
    ]) {
      expect(parseDockerfile(text).directives.escape).toBe("\\");
    }
    // A directive cannot be continued: the next line is an instruction of its own.
    expect(syntaxError("# esc \\\nape=`\nFROM a\n").message).toBe(
      "Dockerfile parse error on line 2: unknown instruction: ape=`",
    );
    expect(parseDockerfile("# check=skip=all\n# escape=`\nFROM a\n").directives.escape).toBe("`");
  });

  it("rejects a repeated directive and a bad escape token, naming the line", () => {
    expect(syntaxError("# escape=\\\n# escape=`\nFROM a\n").message).toBe(
      "Dockerfile parse error on line 2: only one escape parser directive can be used",
    );
    expect(syntaxError("# escape=x\nFROM a\n").message).toBe(
      "Dockerfile parse error on line 1: invalid escape token 'x' does not match ` or \\",
    );
  });

  it("strips a byte-order mark", () => {
    expect(parseDockerfile("\uFEFF# escape=`\nFROM a\n").directives.escape).toBe("`");
  });
});

describe("comments, blank lines and continuations", () => {
  it("drops comment lines, keeps # inside arguments", () => {
    const all = steps(
      "# this is a comment-line\nFROM a\n        # indented comment\n    RUN echo hello\nRUN echo 'we are running some # of cool things'\n",
    );
    expect(all.map((i) => (i as { command: { command: string } }).command.command)).toEqual([
      "echo hello",
      "echo 'we are running some # of cool things'",
    ]);
  });

  it("skips comment lines inside a continuation", () => {
    const run = one("RUN echo hello \\\n# comment\nworld\n");
    expect(run).toMatchObject({
      command: { command: "echo hello world" },
      original: "RUN echo hello world",
      line: 2,
      endLine: 4,
    });
  });

  it("keeps the whitespace of continued lines", () => {
    const run = one('RUN echo "\\\n     hello\\\n     world"\n');
    expect(run).toMatchObject({ command: { command: 'echo "     hello     world"' } });
  });

  it("skips empty continuation lines with a warning", () => {
    const df = parseDockerfile("FROM a\nRUN echo a \\\n\n   \n  b\n");
    expect(df.stages[0]!.instructions[0]).toMatchObject({ command: { command: "echo a   b" } });
    expect(df.warnings.join("\n")).toContain("Empty continuation line found in: RUN echo a   b");
  });

  it("handles CRLF line endings and a continuation at the end of the file", () => {
    const all = steps("FROM a\r\nRUN echo hi \\\r\n  there\r\nRUN echo end \\");
    expect(all[0]).toMatchObject({ command: { command: "echo hi   there" } });
    expect(all[1]).toMatchObject({ command: { command: "echo end" } });
  });
});

describe("FROM and stages", () => {
  it("reads AS names (lower-cased), --platform and several stages", () => {
    const df = parseDockerfile(
      "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nRUN make\nFROM busybox as final\nCOPY --from=build /out /bin/\n",
    );
    expect(df.stages.map((s) => [s.index, s.name, s.from.image])).toEqual([
      [0, "build", "golang:1.22"],
      [1, "final", "busybox"],
    ]);
    expect(df.stages[0]!.from.flags).toEqual([{ name: "platform", value: "$BUILDPLATFORM" }]);
    expect(df.stages[1]!.instructions[0]).toMatchObject({
      keyword: "COPY",
      flags: [{ name: "from", value: "build" }],
    });
  });

  it("puts ARGs before the first FROM in metaArgs", () => {
    const df = parseDockerfile(
      "ARG CODE_VERSION=latest\nARG other\nFROM base:${CODE_VERSION}\nARG CODE_VERSION\n",
    );
    expect(df.metaArgs.flatMap((a) => a.args)).toEqual([
      { name: "CODE_VERSION", defaultValue: "latest" },
      { name: "other", defaultValue: undefined },
    ]);
    expect(df.stages[0]!.from.image).toBe("base:${CODE_VERSION}");
    expect(df.stages[0]!.instructions).toHaveLength(1);
  });

  it("rejects bad FROM lines", () => {
    expect(syntaxError("FROM a b\n").message).toBe(
      "Dockerfile parse error on line 1: FROM requires either one or three arguments",
    );
    expect(syntaxError("FROM\n").reason).toBe("FROM requires either one or three arguments");
    expect(syntaxError("FROM a AS 1x\n").reason).toBe(
      'invalid name for build stage: "1x", name can\'t start with a number or contain symbols',
    );
    expect(syntaxError("FROM --platfrom=x a\n").reason).toBe(
      "unknown flag: --platfrom (did you mean platform?)",
    );
    expect(syntaxError("FROM --plat=x a\n").reason).toBe("unknown flag: --plat");
    expect(syntaxError("FROM a AS x\nFROM b AS X\n").message).toBe(
      'Dockerfile parse error on line 2: duplicate stage name "x"',
    );
  });

  it("requires a FROM before other instructions, and a stage", () => {
    const err = syntaxError("# hi\n\nRUN echo\nFROM a\n");
    expect(err.message).toBe("Dockerfile parse error on line 3: no build stage in current context");
    expect(err.line).toBe(3);
    expect(syntaxError("ARG a=1\n").message).toBe("dockerfile contains no stages to build");
  });

  it("rejects an empty Dockerfile", () => {
    for (const text of ["", "\n\n", "# only\n# comments\n", "   \n\t\n"]) {
      expect(syntaxError(text).message).toBe("the Dockerfile cannot be empty");
    }
  });
});

describe("unknown instructions", () => {
  it("names the line and suggests the closest instruction", () => {
    expect(syntaxError("FROM a\nRUN x\nFRMO b\n").message).toBe(
      "Dockerfile parse error on line 3: unknown instruction: FRMO (did you mean FROM?)",
    );
    expect(syntaxError("FROM a\ncopyy x y\n").reason).toBe(
      "unknown instruction: copyy (did you mean copy?)",
    );
    expect(syntaxError("FROM a\nFOOBAR x\n").reason).toBe("unknown instruction: FOOBAR");
  });

  it("counts heredoc bodies and continuations in line numbers", () => {
    const err = syntaxError("FROM a\nRUN <<EOF\nx\nEOF\nRUN a \\\n  b\nBAD x\n");
    expect(err.line).toBe(7);
  });
});

describe("RUN, CMD, ENTRYPOINT", () => {
  it("reads the exec form as JSON and everything else as the shell form", () => {
    expect(one('RUN ["/bin/bash", "-c", "echo hello"]')).toMatchObject({
      command: { kind: "exec", argv: ["/bin/bash", "-c", "echo hello"] },
      heredocs: [],
    });
    expect(one('CMD [ "echo", "$HOME" ]')).toMatchObject({
      keyword: "CMD",
      command: { kind: "exec", argv: ["echo", "$HOME"] },
    });
    expect(one("ENTRYPOINT ['sh', '-c']")).toMatchObject({
      keyword: "ENTRYPOINT",
      command: { kind: "shell", command: "['sh', '-c']" },
    });
    expect(one('CMD ["unterminated"')).toMatchObject({
      command: { kind: "shell", command: '["unterminated"' },
    });
    expect(one("CMD []")).toMatchObject({ command: { kind: "exec", argv: [] } });
    expect(one("entrypoint exec top -b")).toMatchObject({
      keyword: "ENTRYPOINT",
      command: { kind: "shell", command: "exec top -b" },
    });
  });

  it("rejects a JSON array holding something other than strings", () => {
    expect(syntaxError('FROM a\nCMD ["a", 1]\n').message).toBe(
      "Dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only",
    );
  });

  it("keeps RUN's --mount, --network and --security flags", () => {
    expect(
      one("RUN --mount=type=cache,target=/root/.cache --network=none --security=insecure pip i"),
    ).toMatchObject({
      flags: [
        { name: "mount", value: "type=cache,target=/root/.cache" },
        { name: "network", value: "none" },
        { name: "security", value: "insecure" },
      ],
      command: { kind: "shell", command: "pip i" },
    });
    expect(one("RUN --mount=a --mount=b -- --not-a-flag")).toMatchObject({
      flags: [
        { name: "mount", value: "a" },
        { name: "mount", value: "b" },
      ],
      command: { command: "--not-a-flag" },
    });
    expect(syntaxError("FROM a\nRUN --network=bogus x\n").reason).toBe(
      'invalid network mode "bogus"',
    );
    expect(syntaxError("FROM a\nRUN --netwrk=host x\n").reason).toBe(
      "unknown flag: --netwrk (did you mean network?)",
    );
    expect(syntaxError("FROM a\nCMD --x y\n").reason).toBe("unknown flag: --x");
  });
});

describe("ENV and LABEL", () => {
  it("reads the key=value form with quotes and escapes kept raw", () => {
    expect(
      one('ENV MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog \\\n    MY_CAT=fluffy'),
    ).toMatchObject({
      pairs: [
        { key: "MY_NAME", value: '"John Doe"' },
        { key: "MY_DOG", value: "Rex\\ The\\ Dog" },
        { key: "MY_CAT", value: "fluffy" },
      ],
    });
    expect(one("ENV EMPTY= A=''")).toMatchObject({
      pairs: [
        { key: "EMPTY", value: "" },
        { key: "A", value: "''" },
      ],
    });
  });

  it("reads the legacy `ENV key value…` form: the value is the rest of the line", () => {
    expect(one("ENV MY_VAR my-value and more")).toMatchObject({
      pairs: [{ key: "MY_VAR", value: "my-value and more" }],
    });
    expect(one('ENV SCUBA "1 DUBA 3"')).toMatchObject({
      pairs: [{ key: "SCUBA", value: '"1 DUBA 3"' }],
    });
  });

  it("reads LABELs as docker documents them", () => {
    expect(
      one('LABEL "com.example.vendor"="ACME Incorporated" version="1.0" description="a \\\nb"'),
    ).toMatchObject({
      keyword: "LABEL",
      pairs: [
        { key: '"com.example.vendor"', value: '"ACME Incorporated"' },
        { key: "version", value: '"1.0"' },
        { key: "description", value: '"a b"' },
      ],
    });
    expect(one("LABEL maintainer docker <docker@docker.io>")).toMatchObject({
      pairs: [{ key: "maintainer", value: "docker <docker@docker.io>" }],
    });
  });

  it("rejects malformed pairs", () => {
    expect(syntaxError("FROM a\nENV a\n").reason).toBe("ENV must have two arguments");
    expect(syntaxError("FROM a\nENV\n").reason).toBe("ENV requires at least one argument");
    expect(syntaxError("FROM a\nENV a=1 b\n").reason).toBe(
      `Syntax error - can't find = in "b". Must be of the form: name=value`,
    );
    expect(syntaxError("FROM a\nLABEL =x\n").reason).toBe("LABEL names can not be blank");
    expect(syntaxError("FROM a\nLABEL\n").reason).toBe("LABEL requires at least one argument");
  });
});

describe("ARG", () => {
  it("reads names with and without defaults", () => {
    expect(one('ARG user1 buildno=1 "q=x y" empty=')).toMatchObject({
      args: [
        { name: "user1", defaultValue: undefined },
        { name: "buildno", defaultValue: "1" },
        { name: '"q', defaultValue: 'x y"' },
        { name: "empty", defaultValue: "" },
      ],
    });
    expect(syntaxError("FROM a\nARG\n").reason).toBe("ARG requires at least one argument");
    expect(syntaxError("FROM a\nARG =1\n").reason).toBe("ARG names can not be blank");
  });
});

describe("one-argument instructions", () => {
  it("keeps USER, WORKDIR, STOPSIGNAL and MAINTAINER raw", () => {
    expect(one("USER 1000:1000")).toMatchObject({ keyword: "USER", value: "1000:1000" });
    expect(one("WORKDIR ${FOO}/b c")).toMatchObject({ keyword: "WORKDIR", value: "${FOO}/b c" });
    expect(one("STOPSIGNAL SIGKILL")).toMatchObject({ keyword: "STOPSIGNAL", value: "SIGKILL" });
    const df = parseDockerfile("FROM a\nMAINTAINER me <me@x.org>\n");
    expect(df.stages[0]!.instructions[0]).toMatchObject({ value: "me <me@x.org>" });
    expect(df.warnings.join("\n")).toContain("MAINTAINER instruction is deprecated");
    for (const k of ["USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"]) {
      expect(syntaxError(`FROM a\n${k}\n`).reason).toBe(`${k} requires exactly one argument`);
    }
  });
});

describe("EXPOSE, VOLUME, SHELL", () => {
  it("reads EXPOSE ports and VOLUME lists in both forms", () => {
    expect(one("EXPOSE 80/udp  80/tcp")).toMatchObject({ values: ["80/udp", "80/tcp"] });
    expect(one('VOLUME ["/data", "/x y"]')).toMatchObject({ values: ["/data", "/x y"] });
    expect(one("VOLUME /var/log /var/db")).toMatchObject({ values: ["/var/log", "/var/db"] });
    expect(syntaxError("FROM a\nEXPOSE\n").reason).toBe("EXPOSE requires at least one argument");
    expect(syntaxError("FROM a\nVOLUME\n").reason).toBe("VOLUME requires at least one argument");
    expect(syntaxError('FROM a\nVOLUME [" "]\n').reason).toBe(
      "VOLUME specified can not be an empty string",
    );
  });

  it("requires SHELL in JSON form", () => {
    expect(one('SHELL ["powershell", "-command"]')).toMatchObject({
      argv: ["powershell", "-command"],
    });
    expect(syntaxError("FROM a\nSHELL sh -c\n").reason).toBe(
      "SHELL requires the arguments to be in JSON form",
    );
    expect(syntaxError("FROM a\nSHELL []\n").reason).toBe("SHELL requires at least one argument");
    expect(syntaxError("FROM a\nSHELL\n").reason).toBe("SHELL requires at least one argument");
  });
});

describe("HEALTHCHECK", () => {
  it("reads CMD in both forms with its flags, and NONE", () => {
    expect(
      one("HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1"),
    ).toMatchObject({
      flags: [
        { name: "interval", value: "5m" },
        { name: "timeout", value: "3s" },
      ],
      command: { kind: "shell", command: "curl -f http://localhost/ || exit 1" },
    });
    expect(one('HEALTHCHECK --retries=3 cmd ["true"]')).toMatchObject({
      command: { kind: "exec", argv: ["true"] },
    });
    expect(one("HEALTHCHECK NONE")).toMatchObject({ command: undefined });
  });

  it("rejects what docker rejects", () => {
    const reason = (line: string) => syntaxError(`FROM a\n${line}\n`).reason;
    expect(reason("HEALTHCHECK")).toBe("HEALTHCHECK requires at least one argument");
    expect(reason("HEALTHCHECK NONE x")).toBe("HEALTHCHECK NONE takes no arguments");
    expect(reason("HEALTHCHECK CMD")).toBe("Missing command after HEALTHCHECK CMD");
    expect(reason("HEALTHCHECK CMD []")).toBe("Missing command after HEALTHCHECK CMD");
    expect(reason("HEALTHCHECK FOO x")).toBe('Unknown type "FOO" in HEALTHCHECK (try CMD)');
    expect(reason("HEALTHCHECK --interval=abc CMD x")).toBe('time: invalid duration "abc"');
    expect(reason("HEALTHCHECK --timeout=5 CMD x")).toBe('time: missing unit in duration "5"');
    expect(reason("HEALTHCHECK --interval=1us CMD x")).toBe(
      'Interval "interval" cannot be less than 1ms',
    );
    expect(reason("HEALTHCHECK --retries=-1 CMD x")).toBe("--retries cannot be negative (-1)");
    expect(reason("HEALTHCHECK --retries=x CMD x")).toBe(
      'strconv.ParseInt: parsing "x": invalid syntax',
    );
    expect(reason("HEALTHCHECK --intervl=1s CMD x")).toBe(
      "unknown flag: --intervl (did you mean interval?)",
    );
  });
});

describe("ONBUILD", () => {
  it("keeps the trigger as written", () => {
    expect(one("ONBUILD ADD . /app/src")).toMatchObject({ trigger: "ADD . /app/src" });
    expect(one('onbuild RUN ["echo", "test"]')).toMatchObject({ trigger: 'RUN ["echo", "test"]' });
  });

  it("rejects ONBUILD ONBUILD, FROM and MAINTAINER triggers and bad triggers", () => {
    const reason = (line: string) => syntaxError(`FROM a\n${line}\n`).reason;
    expect(reason("ONBUILD ONBUILD RUN x")).toBe(
      "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    );
    expect(reason("ONBUILD FROM x")).toBe("FROM isn't allowed as an ONBUILD trigger");
    expect(reason("ONBUILD maintainer x")).toBe("MAINTAINER isn't allowed as an ONBUILD trigger");
    expect(reason("ONBUILD")).toBe("ONBUILD requires at least one argument");
    expect(reason("ONBUILD FRMO x")).toBe("unknown instruction: FRMO (did you mean FROM?)");
    expect(reason("ONBUILD COPY x")).toContain("COPY requires at least two arguments");
  });
});

describe("COPY and ADD", () => {
  it("reads sources, destination and flags", () => {
    expect(one("COPY --from=build --chown=55:mygroup --chmod=644 --link a b* /dst/")).toMatchObject(
      {
        keyword: "COPY",
        flags: [
          { name: "from", value: "build" },
          { name: "chown", value: "55:mygroup" },
          { name: "chmod", value: "644" },
          { name: "link", value: undefined },
        ],
        sources: ["a", "b*"],
        dest: "/dst/",
        heredocs: [],
      },
    );
    expect(one('COPY ["a b", "/x y/"]')).toMatchObject({ sources: ["a b"], dest: "/x y/" });
    expect(one("ADD --checksum=sha256:24454f83 https://example.com/a.tar.gz /")).toMatchObject({
      keyword: "ADD",
      sources: ["https://example.com/a.tar.gz"],
      flags: [{ name: "checksum", value: "sha256:24454f83" }],
    });
    expect(one('COPY --chown="1 2" a b')).toMatchObject({ flags: [{ value: "1 2" }] });
  });

  it("rejects missing destinations and bad flags", () => {
    const reason = (line: string) => syntaxError(`FROM a\n${line}\n`).reason;
    expect(reason("COPY a")).toBe(
      "COPY requires at least two arguments, but only one was provided. Destination could not be determined",
    );
    expect(reason("ADD")).toContain("ADD requires at least two arguments");
    expect(reason("COPY --link=maybe a b")).toBe(
      "expecting boolean value for flag --link, not: maybe",
    );
    expect(reason("COPY --link= a b")).toBe("missing a value on flag: --link");
    expect(reason("COPY --from a b")).toBe("missing a value on flag: --from");
    expect(reason("COPY --from=a --from=b a b")).toBe("duplicate flag specified: --from");
    expect(reason("ADD --from=a a b")).toBe("unknown flag: --from");
    expect(syntaxError("FROM a\nCOPY a <<EOF\nx\nEOF\n").reason).toBe(
      "COPY cannot accept a heredoc as a destination",
    );
  });
});

describe("heredocs", () => {
  it("takes the body of RUN <<EOF as the script", () => {
    const run = one("RUN <<EOT bash\n  set -ex\n  apt-get update\nEOT\n");
    expect(run).toMatchObject({
      command: { kind: "shell", command: "<<EOT bash" },
      heredocs: [{ name: "EOT", content: "  set -ex\n  apt-get update\n", expand: true }],
      line: 2,
      endLine: 5,
    });
  });

  it("reads several heredocs in one instruction, in order", () => {
    const run = one(
      "RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2\n",
    );
    expect(run).toMatchObject({
      heredocs: [
        { name: "FILE1", content: "I am\nfirst\n" },
        { name: "FILE2", content: "I am\nsecond\n" },
      ],
    });
  });

  it("does not expand quoted delimiters and strips tabs for <<-", () => {
    const all = steps(
      'FROM a\nCOPY <<-"EOT" /script.sh\n\techo "hello ${FOO}"\n\t\tnested\n\tEOT\nRUN python3 <<\'EOF\'\nprint(1)\nEOF\nRUN cat <<E"O"F\nx\nEOF\n',
    );
    expect(all[0]).toMatchObject({
      sources: ["EOT"],
      dest: "/script.sh",
      heredocs: [{ name: "EOT", content: 'echo "hello ${FOO}"\nnested\n', expand: false }],
    });
    expect(all[1]).toMatchObject({
      heredocs: [{ name: "EOF", content: "print(1)\n", expand: false }],
    });
    expect(all[2]).toMatchObject({ heredocs: [{ name: "EOF", expand: false }] });
    expect(all).toHaveLength(3);
  });

  it("gives COPY several inline sources beside files", () => {
    const copy = one("COPY <<one.txt file.txt <<two.txt /dest/\n1\none.txt\n2\ntwo.txt\n");
    expect(copy).toMatchObject({
      sources: ["one.txt", "file.txt", "two.txt"],
      heredocs: [
        { name: "one.txt", content: "1\n" },
        { name: "two.txt", content: "2\n" },
      ],
    });
  });

  it("leaves exec forms and quoted << alone", () => {
    const all = steps('FROM a\nRUN ["cat", "<<EOF"]\nRUN echo "<<EOF"\nRUN echo a<<b\n');
    expect(all).toHaveLength(3);
    expect(all.every((i) => i.keyword === "RUN" && i.heredocs.length === 0)).toBe(true);
  });

  it("keeps an ONBUILD trigger's heredoc in the trigger", () => {
    expect(one("ONBUILD RUN <<EOF\necho hi\nEOF\n")).toMatchObject({
      trigger: "RUN <<EOF\necho hi\nEOF",
    });
  });

  it("reports an unterminated heredoc at its instruction's line", () => {
    expect(syntaxError("FROM a\nRUN true\nRUN <<EOF\necho\n").message).toBe(
      "Dockerfile parse error on line 3: unterminated heredoc",
    );
    // An unbalanced quote hides the heredoc, as in docker: its body is read as instructions.
    expect(syntaxError('FROM a\nRUN <<"EOF\nx\n').message).toBe(
      "Dockerfile parse error on line 3: unknown instruction: x",
    );
  });
});

describe("instructionCreatesLayer", () => {
  it("is true for RUN, COPY and ADD only", () => {
    const all = steps(
      "FROM a\nRUN x\nCOPY a b\nADD a b\nENV a=b\nLABEL a=b\nCMD x\nWORKDIR /x\nUSER u\nEXPOSE 1\n",
    );
    expect(all.map((i) => [i.keyword, instructionCreatesLayer(i)])).toEqual([
      ["RUN", true],
      ["COPY", true],
      ["ADD", true],
      ["ENV", false],
      ["LABEL", false],
      ["CMD", false],
      ["WORKDIR", false],
      ["USER", false],
      ["EXPOSE", false],
    ]);
  });
});

describe("robustness", () => {
  /** A small deterministic generator, so a failure reproduces. */
  function* randomTexts(seed: number, count: number): Generator<string> {
    const pieces = [
      "FROM ",
      "from a",
      "RUN ",
      "COPY ",
      "ADD ",
      "ENV ",
      "ARG ",
      "LABEL ",
      "ONBUILD ",
      "HEALTHCHECK ",
      "SHELL ",
      "CMD ",
      "EXPOSE ",
      "VOLUME ",
      "USER ",
      "WORKDIR ",
      "AS ",
      "--from=",
      "--link",
      "--mount=",
      "--",
      "<<",
      "<<-",
      "EOF",
      "'",
      '"',
      "\\",
      "`",
      "$",
      "${",
      "}",
      ":-",
      "#",
      "# escape=`",
      "# syntax=x",
      "[",
      "]",
      '["a"]',
      ",",
      "=",
      " ",
      "\t",
      "\n",
      "\r\n",
      "x",
      "1",
      "NONE",
      "\uFEFF",
      "é",
      "\u00a0",
    ];
    let state = seed;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state;
    };
    for (let n = 0; n < count; n++) {
      let text = n % 2 === 0 ? "FROM a\n" : "";
      const len = next() % 40;
      for (let i = 0; i < len; i++) text += pieces[next() % pieces.length];
      yield text;
    }
  }

  it("fails only with DockerfileSyntaxError on arbitrary input", () => {
    let parsed = 0;
    for (const text of randomTexts(7, 3000)) {
      let df: Dockerfile | undefined;
      try {
        df = parseDockerfile(text);
      } catch (err) {
        if (!(err instanceof DockerfileSyntaxError)) {
          throw new Error(`${JSON.stringify(text)} threw ${String(err)}`);
        }
      }
      if (df) parsed++;
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
