/**
 * The pieces docker's Dockerfile parser cuts an instruction line into before any
 * expansion: the keyword, the `--flags`, JSON arrays, quote-aware words and plain
 * whitespace-separated words (buildkit `parser/line_parsers.go`, `split_command.go`).
 */
import { DockerfileSyntaxError } from "../errors.js";
import { isGoSpace } from "./shell-word-expander.js";

/** Go's `reWhitespace` (`[\t\v\f\r ]+`): what separates words in the plain forms. */
const WHITESPACE = /[\t\v\f\r ]+/;

/** `s` without leading and trailing Go whitespace (`strings.TrimSpace`). */
export function goTrimSpace(s: string): string {
  return goTrimRight(goTrimLeft(s));
}

/** `s` without leading Go whitespace (`strings.TrimLeftFunc(s, unicode.IsSpace)`). */
export function goTrimLeft(s: string): string {
  let i = 0;
  for (const ch of s) {
    if (!isGoSpace(ch)) break;
    i += ch.length;
  }
  return s.slice(i);
}

function goTrimRight(s: string): string {
  // Every Go space is in the BMP, so checking UTF-16 units from the end is exact.
  let end = s.length;
  while (end > 0 && isGoSpace(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** Splits at runs of blanks, at most `limit` parts (Go's `regexp.Split(s, n)`), empty for "". */
export function splitWhitespace(s: string, limit = -1): string[] {
  if (s === "") return [];
  const parts: string[] = [];
  let rest = s;
  while (limit < 0 || parts.length < limit - 1) {
    const m = WHITESPACE.exec(rest);
    if (!m) break;
    parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  return parts;
}

/** The keyword, the raw `--flag` words and the rest of an instruction line. */
export interface SplitLine {
  readonly keyword: string;
  readonly flags: string[];
  readonly rest: string;
}

/** Cuts `line` into keyword, leading `--flags` (quotes removed) and the rest, trimmed. */
export function splitCommand(line: string, escapeToken: string): SplitLine {
  const parts = splitWhitespace(goTrimSpace(line), 2);
  const keyword = parts[0] ?? "";
  if (parts.length < 2) return { keyword, flags: [], rest: "" };
  const { rest, flags } = extractBuilderFlags(parts[1]!, escapeToken);
  return { keyword, flags, rest: goTrimSpace(rest) };
}

/**
 * Leading words that start with `--` are flags (quotes and escapes removed inside them);
 * a lone `--` ends them. Returns the flags and the text after them.
 */
function extractBuilderFlags(line: string, escapeToken: string): { rest: string; flags: string[] } {
  const chars = Array.from(line);
  const flags: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  let blankOk = false;
  let offset = 0; // UTF-16 offset of chars[pos]
  for (let pos = 0; pos <= chars.length; offset += chars[pos]?.length ?? 0, pos++) {
    const ch = chars[pos];
    if (!inWord) {
      if (ch === undefined) break;
      if (isGoSpace(ch)) continue;
      if (ch !== "-" || chars[pos + 1] !== "-") return { rest: line.slice(offset), flags };
      inWord = true;
    }
    if (ch === undefined) {
      if (word !== "--" && (blankOk || word.length > 0)) flags.push(word);
      break;
    }
    if (quote === "") {
      if (isGoSpace(ch)) {
        if (word === "--") return { rest: line.slice(offset), flags };
        if (blankOk || word.length > 0) flags.push(word);
        word = "";
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        continue;
      }
    } else if (ch === quote) {
      quote = "";
      continue;
    }
    if (ch === escapeToken) {
      if (pos + 1 === chars.length) {
        quote = "";
        continue; // an escape at the very end is dropped
      }
      offset += ch.length;
      pos++;
      word += chars[pos];
      continue;
    }
    word += ch;
  }
  return { rest: "", flags };
}

/**
 * Quote-aware words of ENV, LABEL and ARG: blanks outside quotes separate words; quotes
 * and escape characters are KEPT (the builder removes them when it expands the word).
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  let blankOk = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos];
    if (!inWord) {
      if (ch === undefined) break;
      if (isGoSpace(ch)) continue;
      inWord = true;
    }
    if (ch === undefined) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    if (quote === "") {
      if (isGoSpace(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        word = "";
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = "";
    // Inside '…' the escape character is literal; inside "…" it keeps the next char.
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        quote = "";
        continue;
      }
      word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return words;
}

/** Result of trying the exec (JSON) form on an instruction's arguments. */
export type JsonArgs = { readonly ok: true; readonly argv: string[] } | { readonly ok: false };

/**
 * The exec form: `rest` is a JSON array of strings. Anything that is not JSON falls back to
 * the shell form (`ok: false`), as docker does; a JSON array holding a non-string is an error.
 * @throws DockerfileSyntaxError for `["a", 1]` and the like.
 */
export function parseJsonArray(rest: string): JsonArgs {
  const text = goTrimLeft(rest);
  if (!text.startsWith("[")) return { ok: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  if (!Array.isArray(parsed)) return { ok: false };
  if (!parsed.every((v): v is string => typeof v === "string")) {
    throw new DockerfileSyntaxError(
      "when using JSON array syntax, arrays must be comprised of strings only",
    );
  }
  return { ok: true, argv: parsed };
}
