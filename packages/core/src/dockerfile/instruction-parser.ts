/**
 * The second pass of the Dockerfile parser (buildkit `instructions/parse.go`): one logical
 * line becomes one typed {@link Instruction}, with docker's argument rules and errors.
 */
import { DockerfileSyntaxError } from "../errors.js";
import type { LogicalLine } from "./dockerfile-scanner.js";
import { parseHeredocWord } from "./dockerfile-scanner.js";
import type {
  CommandForm,
  Heredoc,
  Instruction,
  InstructionFlag,
  KeyValue,
} from "./dockerfile-types.js";
import {
  goTrimSpace,
  parseJsonArray,
  parseWords,
  splitCommand,
  splitWhitespace,
} from "./dockerfile-words.js";
import { parseGoDuration } from "./go-duration.js";
import { flagValue, parseFlags, suggest } from "./instruction-flags.js";

/** Every instruction keyword docker knows, upper case. */
export const INSTRUCTION_KEYWORDS = [
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
] as const;

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

interface Request {
  /** Upper case. */
  readonly keyword: string;
  /** As written, for error messages. */
  readonly written: string;
  readonly rawFlags: readonly string[];
  readonly rest: string;
  readonly escapeToken: string;
  readonly base: {
    readonly line: number;
    readonly endLine: number;
    readonly original: string;
  };
  readonly heredocs: readonly Heredoc[];
}

const fail = (reason: string): never => {
  throw new DockerfileSyntaxError(reason);
};

/**
 * Interprets one logical line. Errors carry no line here; the caller adds it.
 * @throws DockerfileSyntaxError for anything docker rejects at parse time.
 */
export function parseInstruction(line: LogicalLine, escapeToken: string): Instruction {
  const { keyword, flags, rest } = splitCommand(line.text, escapeToken);
  return interpret({
    keyword: keyword.toUpperCase(),
    written: keyword,
    rawFlags: flags,
    rest,
    escapeToken,
    base: { line: line.line, endLine: line.endLine, original: line.text },
    heredocs: line.heredocs,
  });
}

function interpret(req: Request): Instruction {
  const { keyword, rest, base } = req;
  const flags = (): InstructionFlag[] => parseFlags(keyword, req.rawFlags);
  switch (keyword) {
    case "FROM":
      return parseFrom(req, flags());
    case "RUN": {
      const f = flags();
      checkRunFlags(f);
      const command = commandForm(rest);
      const heredocs = command.kind === "shell" ? [...req.heredocs] : [];
      return { ...base, keyword, flags: f, command, heredocs };
    }
    case "CMD":
    case "ENTRYPOINT":
      return { ...base, keyword, flags: flags(), command: commandForm(rest) };
    case "ENV":
    case "LABEL":
      return {
        ...base,
        keyword,
        flags: flags(),
        pairs: parseKeyValues(keyword, rest, req.escapeToken),
      };
    case "ARG":
      // docker never parses ARG's flags (so it ignores them); strata does the same.
      return { ...base, keyword, flags: [], args: parseArgs(rest, req.escapeToken) };
    case "MAINTAINER":
    case "USER":
    case "WORKDIR":
    case "STOPSIGNAL": {
      if (rest === "") fail(`${keyword} requires exactly one argument`);
      // STOPSIGNAL's flags are not parsed by docker either.
      const f = keyword === "STOPSIGNAL" ? [] : flags();
      return { ...base, keyword, flags: f, value: rest };
    }
    case "EXPOSE": {
      const values = splitWhitespace(rest);
      if (values.length === 0) fail("EXPOSE requires at least one argument");
      return { ...base, keyword, flags: flags(), values };
    }
    case "VOLUME": {
      const values = jsonOrWords(rest).map((v) => goTrimSpace(v));
      if (values.length === 0) fail("VOLUME requires at least one argument");
      const f = flags();
      if (values.includes("")) fail("VOLUME specified can not be an empty string");
      return { ...base, keyword, flags: f, values };
    }
    case "SHELL": {
      const f = flags();
      const json = parseJsonArray(rest);
      if (json.ok ? json.argv.length === 0 : rest === "") {
        fail("SHELL requires at least one argument");
      }
      if (!json.ok) fail("SHELL requires the arguments to be in JSON form");
      return { ...base, keyword, flags: f, argv: (json as { argv: string[] }).argv };
    }
    case "HEALTHCHECK":
      return parseHealthcheck(req);
    case "ONBUILD":
      return parseOnbuild(req, flags());
    case "COPY":
    case "ADD":
      return parseCopy(req, flags());
    default: {
      const hint = suggest(keyword, INSTRUCTION_KEYWORDS, false);
      const written = req.written;
      return fail(
        `unknown instruction: ${written}${hint ? ` (did you mean ${matchCase(hint, written)}?)` : ""}`,
      );
    }
  }
}

function matchCase(option: string, written: string): string {
  if (written === written.toLowerCase()) return option.toLowerCase();
  if (written === written.toUpperCase()) return option.toUpperCase();
  return option;
}

/** Exec form when the arguments are a JSON array of strings, shell form (raw) otherwise. */
function commandForm(rest: string): CommandForm {
  const json = parseJsonArray(rest);
  return json.ok ? { kind: "exec", argv: json.argv } : { kind: "shell", command: rest };
}

/** ADD/COPY/VOLUME arguments: a JSON array, or words separated by blanks (quotes kept). */
function jsonOrWords(rest: string): string[] {
  const json = parseJsonArray(rest);
  return json.ok ? json.argv : splitWhitespace(rest);
}

function parseFrom(req: Request, flags: InstructionFlag[]): Instruction {
  const args = splitWhitespace(req.rest);
  let stageName: string | undefined;
  if (args.length === 3 && args[1]!.toLowerCase() === "as") {
    stageName = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      fail(
        `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
      );
    }
  } else if (args.length !== 1) {
    fail("FROM requires either one or three arguments");
  }
  return { ...req.base, keyword: "FROM", flags, image: args[0]!, stageName };
}

function checkRunFlags(flags: readonly InstructionFlag[]): void {
  const network = flagValue(flags, "network");
  if (network !== undefined && !["default", "none", "host"].includes(network)) {
    fail(`invalid network mode ${JSON.stringify(network)}`);
  }
  const security = flagValue(flags, "security");
  if (security !== undefined && !["sandbox", "insecure"].includes(security)) {
    fail(`security ${JSON.stringify(security)} is not valid`);
  }
}

/**
 * ENV and LABEL: `KEY value…` (the legacy form: one pair, the value is the rest of the
 * line) when the first word has no `=`, else `k=v` words. Keys and values stay raw.
 */
function parseKeyValues(keyword: string, rest: string, escapeToken: string): KeyValue[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) fail(`${keyword} requires at least one argument`);
  if (!words[0]!.includes("=")) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) fail(`${keyword} must have two arguments`);
    if (parts[0] === "") fail(`${keyword} names can not be blank`);
    return [{ key: parts[0]!, value: parts[1]! }];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) {
      fail(
        `Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`,
      );
    }
    if (eq === 0) fail(`${keyword} names can not be blank`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

function parseArgs(
  rest: string,
  escapeToken: string,
): { name: string; defaultValue: string | undefined }[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) fail("ARG requires at least one argument");
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq === 0) fail("ARG names can not be blank");
    return eq < 0
      ? { name: word, defaultValue: undefined }
      : { name: word.slice(0, eq), defaultValue: word.slice(eq + 1) };
  });
}

const DURATION_FLAGS = ["interval", "timeout", "start-period", "start-interval"] as const;

function parseHealthcheck(req: Request): Instruction {
  const { rest, base } = req;
  // The type is everything up to the first blank; the command follows.
  const m = /^([^\t\n\v\f\r ]*)[\t\n\v\f\r ]*/.exec(rest)!;
  const type = m[1]!.toUpperCase();
  const cmdText = rest.slice(m[0].length);
  if (m[1] === "") fail("HEALTHCHECK requires at least one argument");
  if (type === "NONE") {
    if (cmdText !== "") fail("HEALTHCHECK NONE takes no arguments");
    // docker does not look at the flags of HEALTHCHECK NONE.
    return { ...base, keyword: "HEALTHCHECK", flags: [], command: undefined };
  }
  const flags = parseFlags("HEALTHCHECK", req.rawFlags);
  const command = cmdText === "" ? undefined : commandForm(cmdText);
  if (type !== "CMD") fail(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  if (command === undefined || (command.kind === "exec" && command.argv.length === 0)) {
    fail("Missing command after HEALTHCHECK CMD");
  }
  for (const name of DURATION_FLAGS) {
    const value = flagValue(flags, name);
    if (value === undefined || value === "") continue;
    let nanos: number;
    try {
      nanos = parseGoDuration(value);
    } catch (err) {
      throw new DockerfileSyntaxError((err as Error).message, undefined, { cause: err });
    }
    if (nanos !== 0 && nanos < 1e6) fail(`Interval "${name}" cannot be less than 1ms`);
  }
  const retries = flagValue(flags, "retries");
  if (retries !== undefined && retries !== "") {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    }
    if (Number(retries) < 0) fail(`--retries cannot be negative (${Number(retries)})`);
  }
  return { ...base, keyword: "HEALTHCHECK", flags, command };
}

function parseOnbuild(req: Request, flags: InstructionFlag[]): Instruction {
  if (req.rest === "") fail("ONBUILD requires at least one argument");
  const trigger = splitCommand(req.rest, req.escapeToken);
  const triggerKeyword = trigger.keyword.toUpperCase();
  if (triggerKeyword === "ONBUILD") fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (triggerKeyword === "MAINTAINER" || triggerKeyword === "FROM") {
    fail(`${triggerKeyword} isn't allowed as an ONBUILD trigger`);
  }
  // Docker checks the trigger only when a child image runs it; strata checks it now too.
  interpret({
    ...req,
    keyword: triggerKeyword,
    written: trigger.keyword,
    rawFlags: trigger.flags,
    rest: trigger.rest,
  });
  let expression = req.base.original.replace(/^\s*ONBUILD\s*/i, "");
  for (const doc of req.heredocs) expression += `\n${doc.content}${doc.name}`;
  return { ...req.base, keyword: "ONBUILD", flags, trigger: expression };
}

function parseCopy(req: Request, flags: InstructionFlag[]): Instruction {
  const keyword = req.keyword as "COPY" | "ADD";
  const args = jsonOrWords(req.rest);
  if (args.length < 2) {
    fail(
      `${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  }
  const dest = args[args.length - 1]!;
  if (parseHeredocWord(dest)) fail(`${keyword} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of args.slice(0, -1)) {
    const doc = parseHeredocWord(src);
    if (!doc) {
      sources.push(src);
      continue;
    }
    sources.push(doc.name);
    const body = req.heredocs.find((h) => h.name === doc.name);
    heredocs.push(body ?? { name: doc.name, content: "", expand: doc.expand });
  }
  return { ...req.base, keyword, flags, sources, dest, heredocs };
}
