import { DockerfileSyntaxError } from "../errors.js";
import type { ShellWordExpander } from "./dockerfile-types.js";
import { shellPatternToRegExp, trimPatternPrefix, trimPatternSuffix } from "./shell-pattern.js";

/** How a {@link ShellLexer} treats quotes, escapes and unset variables. */
export interface ShellLexerOptions {
  /** Keep quote characters in the result (the parser uses this to find heredoc words). */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  readonly rawEscapes?: boolean;
  /** Leave `$v` / `${v…}` as written when `v` is unset instead of expanding to "". */
  readonly skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters (how docker expands a heredoc's body). */
  readonly skipProcessQuotes?: boolean;
}

const EOF = -1;

/** Go's `unicode.IsSpace`: Latin-1 spaces (incl. NEL, NBSP) and Unicode White_Space. */
export function isGoSpace(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  if (c <= 0xff) {
    return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  }
  return /^\p{White_Space}$/u.test(ch);
}

function isLetterOrDigit(ch: string): boolean {
  return /^[\p{L}\p{Nd}]$/u.test(ch);
}

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

/** POSIX special parameters: never set in a Dockerfile, so they expand to "". */
const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

/** Words being assembled: whitespace from expansions splits, quoted text does not. */
class WordCollector {
  private buf = "";
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

/** One pass over one word: a cursor over its code points. */
class WordScanner {
  private readonly chars: string[];
  private pos = 0;
  rawEscapes: boolean;

  constructor(
    source: string,
    private readonly lexer: ShellLexer,
    private readonly env: ReadonlyMap<string, string>,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = lexer.options.rawEscapes ?? false;
  }

  private peek(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos]! : EOF;
  }

  private next(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos++]! : EOF;
  }

  /** Reads up to `stop` (consumed) or the end; returns the text and its words. */
  processStopOn(stop: string | typeof EOF, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string | typeof EOF): [string, string[]] {
    const escapeToken = this.lexer.escapeToken;
    let result = "";
    const words = new WordCollector();
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (stop !== EOF && ch === stop) {
        this.next();
        return [result, words.finish()];
      }
      const quote = (ch === "'" || ch === '"') && !this.lexer.options.skipProcessQuotes;
      if (ch === "$" || ch === "<" || quote) {
        const part =
          ch === "$"
            ? this.processDollar()
            : ch === "<"
              ? this.processPossibleHeredoc()
              : ch === "'"
                ? this.processSingleQuote()
                : this.processDoubleQuote();
        result += part;
        if (ch === "$") words.addString(part);
        else words.addRawString(part);
        continue;
      }
      let c = this.next() as string;
      if (c === escapeToken) {
        if (this.rawEscapes) {
          words.addRawChar(c);
          result += c;
        }
        // The escape character quotes the next one; alone at the end it vanishes.
        const n = this.next();
        if (n === EOF) break;
        c = n;
        words.addRawChar(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== EOF) {
      throw new DockerfileSyntaxError(
        `unexpected end of statement while looking for matching ${stop}`,
      );
    }
    return [result, words.finish()];
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a single quote cannot be escaped inside.
    const raw = this.lexer.options.rawQuotes ?? false;
    const open = this.next() as string;
    let result = raw ? open : "";
    for (;;) {
      const ch = this.next();
      if (ch === EOF) {
        throw new DockerfileSyntaxError(
          "unexpected end of statement while looking for matching single-quote",
        );
      }
      if (ch === "'") return raw ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal up to the next ", except $ expansions; the escape character quotes only
    // `"`, `$` and itself and is kept before anything else.
    const raw = this.lexer.options.rawQuotes ?? false;
    const escapeToken = this.lexer.escapeToken;
    const open = this.next() as string;
    let result = raw ? open : "";
    for (;;) {
      const p = this.peek();
      if (p === EOF) {
        throw new DockerfileSyntaxError(
          "unexpected end of statement while looking for matching double-quote",
        );
      }
      if (p === '"') {
        this.next();
        return raw ? `${result}"` : result;
      }
      if (p === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === escapeToken) {
        if (this.rawEscapes) result += ch;
        const n = this.peek();
        if (n === EOF) continue;
        if (n === '"' || n === "$" || n === escapeToken) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private processPossibleHeredoc(): string {
    // `<<` and the blanks after it stay glued to the next word, so `<< EOF` is one word.
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let result = "<<";
    for (let p = this.peek(); p === " " || p === "\t" || p === "\r"; p = this.peek()) {
      result += this.next();
    }
    return result;
  }

  private processName(): string {
    let name = "";
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (name.length === 0 && isDigit(ch)) {
        // Positional parameters ($1, $001): all digits, never set.
        for (let d = this.peek(); d !== EOF && isDigit(d); d = this.peek()) name += this.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return this.next() as string;
      if (!isLetterOrDigit(ch) && ch !== "_") break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    return this.env.get(name);
  }

  private processDollar(): string {
    this.next();
    const skipUnset = this.lexer.options.skipUnsetEnv ?? false;
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && skipUnset) return `$${name}`;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new DockerfileSyntaxError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") {
      throw new DockerfileSyntaxError("syntax error: bad substitution");
    }
    const name = this.processName();
    let ch = this.next();
    let modifier = ch === EOF ? "\uFFFD" : ch;
    if (ch === "}") {
      const value = this.getEnv(name);
      if (value === undefined && skipUnset) return `\${${name}}`;
      return value ?? "";
    }
    let nullIsUnset = false;
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch === EOF ? "\uFFFD" : ch;
    }
    if (nullIsUnset || ch === "+" || ch === "-" || ch === "?" || ch === "#" || ch === "%") {
      const isPattern = ch === "#" || ch === "%";
      if (nullIsUnset && isPattern) {
        throw new DockerfileSyntaxError(`unsupported modifier (${modifier}) in substitution`);
      }
      const word = this.untilClose("}", isPattern, "syntax error: missing '}'");
      const value = this.getEnv(name);
      if (skipUnset && value === undefined) return `\${${name}${modifier}${word}}`;
      const empty = value === undefined || (nullIsUnset && value === "");
      switch (ch) {
        case "-":
          return empty ? word : (value as string);
        case "+":
          return empty ? "" : word;
        case "?":
          if (value === undefined) {
            throw new DockerfileSyntaxError(`${name}: ${word || "is not allowed to be unset"}`);
          }
          if (empty) {
            throw new DockerfileSyntaxError(`${name}: ${word || "is not allowed to be empty"}`);
          }
          return value;
        case "#":
        case "%": {
          // `#`/`%` trim the shortest match, `##`/`%%` the longest.
          const greedy = word.startsWith(ch);
          const pattern = greedy ? word.slice(1) : word;
          return ch === "%"
            ? trimPatternSuffix(pattern, value ?? "", greedy)
            : trimPatternPrefix(pattern, value ?? "", greedy);
        }
        default:
          throw new DockerfileSyntaxError(`unsupported modifier (${modifier}) in substitution`);
      }
    }
    if (ch === "/") {
      const all = this.peek() === "/";
      if (all) this.next();
      const pattern = this.untilClose("/", true, `syntax error: missing '/' in $\{}`);
      const replacement = this.untilClose("}", true, "syntax error: missing '}'");
      const value = this.getEnv(name);
      if (skipUnset && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
      const re = shellPatternToRegExp(pattern, true, false, all);
      return (value ?? "").replace(re, () => replacement);
    }
    throw new DockerfileSyntaxError(`unsupported modifier (${modifier}) in substitution`);
  }

  /** The text of a `${…}` operand up to `close`, with docker's error when it never comes. */
  private untilClose(close: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(close, rawEscapes)[0];
    } catch (err) {
      if (this.peek() === EOF) throw new DockerfileSyntaxError(missing, undefined, { cause: err });
      throw err;
    }
  }
}

/**
 * Docker's shell-word processing (buildkit `shell.Lex`): quote removal, the escape
 * character and `$`-expansion for the Dockerfile instructions that docker expands.
 * Not a shell: no command substitution, globbing or arithmetic.
 */
export class ShellLexer implements ShellWordExpander {
  constructor(
    readonly escapeToken: "\\" | "`" = "\\",
    readonly options: ShellLexerOptions = {},
  ) {}

  /**
   * One word: quotes removed, variables expanded, never split.
   * @throws DockerfileSyntaxError on unbalanced quotes, bad `${…}` or `${v?msg}` failures.
   */
  processWord(word: string, env: ReadonlyMap<string, string>): string {
    return this.run(word, env)[0];
  }

  /**
   * The word split at unquoted whitespace (after expansion: an expanded value's blanks split).
   * @throws DockerfileSyntaxError as {@link ShellLexer.processWord}.
   */
  processWords(word: string, env: ReadonlyMap<string, string>): string[] {
    return this.run(word, env)[1];
  }

  private run(word: string, env: ReadonlyMap<string, string>): [string, string[]] {
    const scanner = new WordScanner(word, this, env);
    try {
      return scanner.processStopOn(EOF, scanner.rawEscapes);
    } catch (err) {
      if (err instanceof DockerfileSyntaxError) {
        throw new DockerfileSyntaxError(`failed to process ${goQuote(word)}: ${err.reason}`);
      }
      throw err;
    }
  }
}

/**
 * The {@link ShellWordExpander} for a Dockerfile whose escape directive is `escapeToken`
 * (`\` unless `# escape=`` ` `` says otherwise).
 */
export function createShellWordExpander(escapeToken: "\\" | "`" = "\\"): ShellWordExpander {
  return new ShellLexer(escapeToken);
}

/**
 * The body of a heredoc whose delimiter was not quoted (`COPY <<EOF`), expanded as docker
 * does: `$v`/`${v…}` replaced and `\` escapes applied, quotes left as they are.
 * @throws DockerfileSyntaxError for a bad `${…}` in the body.
 */
export function expandHeredoc(content: string, env: ReadonlyMap<string, string>): string {
  return new ShellLexer("\\", { skipProcessQuotes: true }).processWord(content, env);
}

/** A string quoted as Go's `%q` prints it (close enough for error messages). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
