/**
 * The first pass of the Dockerfile parser (buildkit `parser.Parse`): parser directives,
 * comments, line continuations and heredoc bodies turn the text into one logical line
 * per instruction.
 */
import { DockerfileSyntaxError } from "../errors.js";
import type { Heredoc } from "./dockerfile-types.js";
import { goTrimLeft, parseJsonArray, splitCommand } from "./dockerfile-words.js";
import { ShellLexer } from "./shell-word-expander.js";

/** One instruction as the scanner found it, before its arguments are interpreted. */
export interface LogicalLine {
  /** The joined line, continuations removed (docker's `Original`). */
  readonly text: string;
  readonly line: number;
  readonly endLine: number;
  readonly heredocs: readonly Heredoc[];
}

/** What the scanner returns: the directives, the logical lines and any warnings. */
export interface ScannedDockerfile {
  readonly escapeToken: "\\" | "`";
  readonly syntax: string | undefined;
  readonly lines: readonly LogicalLine[];
  readonly warnings: readonly string[];
}

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);
/** Heredoc-capable instructions (and ONBUILD, whose trigger may be one). */
const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

/** Docker's directive rules: only at the very top, before any other line; each once. */
class DirectiveParser {
  private done = false;
  private readonly seen = new Map<string, string>();

  /** The directive on `line`, if it is one; ends the directive block otherwise. */
  parse(line: string): { name: string; value: string } | undefined {
    if (this.done) return undefined;
    if (!line.startsWith("#")) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE.exec(goTrimLeft(line.slice(1)));
    const name = m?.[1]?.toLowerCase();
    if (!m || name === undefined || !KNOWN_DIRECTIVES.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) {
      throw new DockerfileSyntaxError(`only one ${name} parser directive can be used`);
    }
    this.seen.set(name, m[2]!);
    return { name, value: m[2]! };
  }
}

function isComment(line: string): boolean {
  return goTrimLeft(line).startsWith("#");
}

/** Splits into lines keeping each one's "\n" (Go's scanner with docker's `scanLines`). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", start)) {
    lines.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function trimNewline(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === "\n" || line[end - 1] === "\r")) end--;
  return line.slice(0, end);
}

/**
 * Scans a Dockerfile into logical lines.
 * @throws DockerfileSyntaxError for a bad or repeated directive and an unterminated heredoc.
 */
export function scanDockerfile(text: string): ScannedDockerfile {
  const lines = splitLines(text.startsWith("\uFEFF") ? text.slice(1) : text);
  const directives = new DirectiveParser();
  let escapeToken: "\\" | "`" = "\\";
  let syntax: string | undefined;
  let continuation = continuationRegExp(escapeToken);
  const out: LogicalLine[] = [];
  const warnings: string[] = [];

  /** Directive handling and comment removal for one physical line (docker's processLine). */
  const processLine = (raw: string, lineNo: number, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = goTrimLeft(token);
    let directive: { name: string; value: string } | undefined;
    try {
      directive = directives.parse(token);
    } catch (err) {
      throw new DockerfileSyntaxError((err as DockerfileSyntaxError).reason, lineNo);
    }
    if (directive?.name === "escape") {
      if (directive.value !== "`" && directive.value !== "\\") {
        throw new DockerfileSyntaxError(
          `invalid escape token '${directive.value}' does not match \` or \\`,
          lineNo,
        );
      }
      escapeToken = directive.value;
      continuation = continuationRegExp(escapeToken);
    } else if (directive?.name === "syntax") {
      syntax = directive.value;
      warnings.push(
        `the syntax=${directive.value} parser directive is ignored: strata parses the Dockerfile itself`,
      );
    }
    return isComment(token) ? "" : token;
  };

  const trimContinuation = (line: string): [string, boolean] => {
    if (!continuation.test(line)) return [line, true];
    return [line.replace(continuation, "$1"), false];
  };

  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    let [first, ended] = trimContinuation(processLine(lines[i]!, startLine, true));
    i++;
    if (ended && first.length === 0) continue;
    let joined = first;
    let emptyContinuation = false;
    while (!ended && i < lines.length) {
      const raw = lines[i]!;
      const processed = processLine(raw, i + 1, false);
      i++;
      if (isComment(raw)) continue;
      if (goTrimLeft(trimNewline(processed)).length === 0) {
        emptyContinuation = true;
        continue;
      }
      [first, ended] = trimContinuation(processed);
      joined += first;
    }
    if (emptyContinuation) {
      warnings.push(
        `Empty continuation line found in: ${joined} (empty continuation lines will become errors in a future release)`,
      );
    }
    const heredocs: Heredoc[] = [];
    if (mayHaveHeredocs(joined, escapeToken)) {
      let docs: HeredocWord[];
      try {
        docs = heredocsFromLine(joined);
      } catch (err) {
        if (!(err instanceof DockerfileSyntaxError)) throw err;
        throw new DockerfileSyntaxError(err.reason, startLine, { cause: err });
      }
      for (const doc of docs) {
        let content = "";
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i]!;
          i++;
          let candidate = trimNewline(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) throw new DockerfileSyntaxError("unterminated heredoc", startLine);
        if (doc.chomp) content = content.replace(/(^|\n)\t+/g, "$1");
        heredocs.push({ name: doc.name, content, expand: doc.expand });
      }
    }
    out.push({ text: joined, line: startLine, endLine: i, heredocs });
  }
  return { escapeToken, syntax, lines: out, warnings };
}

/** The escape character as the last non-blank of a line, unless escaped itself. */
function continuationRegExp(escapeToken: string): RegExp {
  const e = `\\${escapeToken}`;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** RUN/COPY/ADD in shell form (directly or as an ONBUILD trigger) mentioning `<<`. */
function mayHaveHeredocs(line: string, escapeToken: string): boolean {
  if (!line.includes("<<")) return false;
  let { keyword, rest } = splitCommand(line, escapeToken);
  if (keyword.toLowerCase() === "onbuild") ({ keyword, rest } = splitCommand(rest, escapeToken));
  if (!HEREDOC_KEYWORDS.has(keyword.toLowerCase())) return false;
  try {
    return !parseJsonArray(rest).ok;
  } catch {
    return false; // a JSON array with non-strings: the instruction parser reports it
  }
}

interface HeredocWord {
  readonly name: string;
  readonly chomp: boolean;
  readonly expand: boolean;
}

const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;

/**
 * The heredoc delimiter a word like `<<EOF`, `<<-"EOF"`, `2<<'EOF'` declares, if it is one.
 * The delimiter is unquoted; any quote in it turns expansion of the body off.
 * @throws DockerfileSyntaxError for an unbalanced quote in the delimiter.
 */
export function parseHeredocWord(word: string): HeredocWord | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === "") return undefined;
  const env = new Map<string, string>();
  const plain = new ShellLexer("\\", { skipUnsetEnv: true }).processWords(m[3]!, env);
  if (plain.length !== 1) return undefined;
  const raw = new ShellLexer("\\", { skipUnsetEnv: true, rawQuotes: true }).processWords(
    m[3]!,
    env,
  );
  const quotes = (s: string) => s.replace(/[^'"]/g, "").length;
  return {
    name: plain[0]!,
    chomp: m[2] === "-",
    expand: raw.length === 1 && quotes(plain[0]!) === quotes(raw[0]!),
  };
}

function heredocsFromLine(line: string): HeredocWord[] {
  let words: string[];
  try {
    words = new ShellLexer("\\", {
      rawQuotes: true,
      rawEscapes: true,
      skipUnsetEnv: true,
    }).processWords(line, new Map());
  } catch {
    return [];
  }
  const docs: HeredocWord[] = [];
  for (const word of words) {
    const doc = parseHeredocWord(word);
    if (doc) docs.push(doc);
  }
  return docs;
}
