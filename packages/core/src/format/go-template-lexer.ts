/**
 * The lexer of Go's `text/template` (`text/template/parse/lex.go`): splits a template into
 * text and the tokens of its `{{actions}}`, handling trim markers (`{{- ` and ` -}}`),
 * comments, quoted strings, numbers and the `:=`/`=` operators, with Go's error wording.
 */

/** Token types. */
export type ItemType =
  | "text"
  | "leftDelim"
  | "rightDelim"
  | "space"
  | "field"
  | "variable"
  | "identifier"
  | "keyword"
  | "string"
  | "rawString"
  | "char"
  | "charConstant"
  | "number"
  | "bool"
  | "nil"
  | "dot"
  | "pipe"
  | "declare"
  | "assign"
  | "leftParen"
  | "rightParen"
  | "comment"
  | "eof"
  | "error";

/** One token: its type, text, byte offset and line. */
export interface Item {
  type: ItemType;
  val: string;
  /** Offset of the token's first character in the template (UTF-16 units). */
  pos: number;
  /** 1-based line of the token's start. */
  line: number;
}

/** Words that are keywords inside actions (`nil` is its own token type). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "block",
  "break",
  "continue",
  "define",
  "else",
  "end",
  "if",
  "range",
  "template",
  "with",
]);

const LEFT = "{{";
const RIGHT = "}}";
const LEFT_COMMENT = "/*";
const RIGHT_COMMENT = "*/";

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && (c === "_" || /^[\p{L}\p{Nd}]$/u.test(c));
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s[at] === "-" && isSpace(s[at + 1]);
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpace(s[at]) && s[at + 1] === "-";
}

/** Go's `%#U` of a character: `U+0040 '@'`. */
export function quoteRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${c}'`;
}

/**
 * Tokenize `input`. Lexing stops at the first error, which is the last item (type
 * `error`, its `val` the message); otherwise the last item is `eof`.
 */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0; // current position
  let start = 0; // start of the current item
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;

  const emit = (type: ItemType, val = input.slice(start, pos)) => {
    items.push({ type, val, pos: start, line: startLine });
    start = pos;
    startLine = line;
  };
  const advance = (n: number) => {
    for (let i = 0; i < n && pos < input.length; i++) {
      if (input[pos] === "\n") line++;
      pos++;
    }
  };
  const ignore = () => {
    start = pos;
    startLine = line;
  };
  const fail = (message: string): Item[] => {
    items.push({ type: "error", val: message, pos: start, line: startLine });
    return items;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT, pos + 2))
      return { delim: true, trim: true };
    if (input.startsWith(RIGHT, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if (".,|:)(".includes(c)) return true;
    return input.startsWith(RIGHT, pos);
  };
  const skipLeadingSpace = () => {
    while (isSpace(input[pos])) advance(1);
    ignore();
  };

  // Text and actions alternate until the end of the input.
  for (;;) {
    // lexText
    const next = input.indexOf(LEFT, pos);
    if (next < 0) {
      advance(input.length - pos);
      if (pos > start) emit("text");
      emit("eof", "");
      return items;
    }
    advance(next - pos);
    let textEnd = pos;
    const trimBefore = hasLeftTrimMarker(input, pos + LEFT.length);
    if (trimBefore) while (textEnd > start && isSpace(input[textEnd - 1])) textEnd--;
    if (textEnd > start) {
      items.push({ type: "text", val: input.slice(start, textEnd), pos: start, line: startLine });
    }
    ignore();

    // lexLeftDelim
    advance(LEFT.length);
    const afterMarker = trimBefore ? 2 : 0;
    if (input.startsWith(LEFT_COMMENT, pos + afterMarker)) {
      advance(afterMarker);
      ignore();
      // lexComment
      advance(LEFT_COMMENT.length);
      const end = input.indexOf(RIGHT_COMMENT, pos);
      if (end < 0) return fail("unclosed comment");
      advance(end - pos + RIGHT_COMMENT.length);
      const { delim, trim } = atRightDelim();
      if (!delim) return fail("comment ends before closing delimiter");
      emit("comment");
      if (trim) advance(2);
      advance(RIGHT.length);
      ignore();
      if (trim) skipLeadingSpace();
      continue;
    }
    emit("leftDelim");
    advance(afterMarker);
    ignore();
    parenDepth = 0;

    // lexInsideAction, until the right delimiter
    for (;;) {
      const { delim, trim } = atRightDelim();
      if (delim) {
        if (parenDepth !== 0) return fail("unclosed left paren");
        if (trim) advance(2);
        ignore();
        advance(RIGHT.length);
        emit("rightDelim");
        if (trim) skipLeadingSpace();
        break;
      }
      const c = input[pos];
      if (c === undefined) return fail("unclosed action");
      if (isSpace(c)) {
        // lexSpace; a space that begins " -}}" belongs to the trim marker.
        let n = 0;
        while (isSpace(input[pos])) {
          advance(1);
          n++;
        }
        if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT, pos + 1)) {
          pos--; // back before the space that starts the marker
          if (input[pos] === "\n") line--;
          if (n === 1) continue;
        }
        emit("space");
        continue;
      }
      advance(1);
      switch (c) {
        case "=":
          emit("assign");
          continue;
        case ":":
          if (input[pos] !== "=") return fail("expected :=");
          advance(1);
          emit("declare");
          continue;
        case "|":
          emit("pipe");
          continue;
        case '"': {
          for (;;) {
            const d = input[pos];
            if (d === "\\" && input[pos + 1] !== undefined && input[pos + 1] !== "\n") {
              advance(2);
              continue;
            }
            if (d === undefined || d === "\n") return fail("unterminated quoted string");
            advance(1);
            if (d === '"') break;
          }
          emit("string");
          continue;
        }
        case "`": {
          const end = input.indexOf("`", pos);
          if (end < 0) return fail("unterminated raw quoted string");
          advance(end - pos + 1);
          emit("rawString");
          continue;
        }
        case "'": {
          for (;;) {
            const d = input[pos];
            if (d === "\\" && input[pos + 1] !== undefined && input[pos + 1] !== "\n") {
              advance(2);
              continue;
            }
            if (d === undefined || d === "\n") return fail("unterminated character constant");
            advance(1);
            if (d === "'") break;
          }
          emit("charConstant");
          continue;
        }
        case "$":
        case ".": {
          if (c === "." && /[0-9]/.test(input[pos] ?? "")) {
            pos--;
            if (!lexNumber()) return fail(`bad number syntax: "${input.slice(start, pos)}"`);
            continue;
          }
          // lexFieldOrVariable
          if (atTerminator()) {
            emit(c === "$" ? "variable" : "dot");
            continue;
          }
          while (isAlphaNumeric(input[pos])) advance(1);
          if (!atTerminator()) return fail(`bad character ${quoteRune(charAt(input, pos))}`);
          emit(c === "$" ? "variable" : "field");
          continue;
        }
        case "(":
          parenDepth++;
          emit("leftParen");
          continue;
        case ")":
          parenDepth--;
          if (parenDepth < 0) return fail("unexpected right paren");
          emit("rightParen");
          continue;
      }
      if (c === "+" || c === "-" || /[0-9]/.test(c)) {
        pos--;
        if (!lexNumber()) return fail(`bad number syntax: "${input.slice(start, pos)}"`);
        continue;
      }
      if (isAlphaNumeric(c)) {
        while (isAlphaNumeric(input[pos])) advance(1);
        if (!atTerminator()) return fail(`bad character ${quoteRune(charAt(input, pos))}`);
        const word = input.slice(start, pos);
        if (KEYWORDS.has(word)) emit("keyword");
        else if (word === "nil") emit("nil");
        else if (word === "true" || word === "false") emit("bool");
        else emit("identifier");
        continue;
      }
      const full = charAt(input, pos - 1);
      if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) {
        emit("char");
        continue;
      }
      return fail(`unrecognized character in action: ${quoteRune(full)}`);
    }
  }

  /** Scan a number at `pos` (Go's `scanNumber`); false when it is malformed. */
  function lexNumber(): boolean {
    if (input[pos] === "+" || input[pos] === "-") advance(1);
    let digits = "0123456789_";
    if (input[pos] === "0" && /[xXoObB]/.test(input[pos + 1] ?? "")) {
      const base = (input[pos + 1] ?? "").toLowerCase();
      advance(2);
      digits = base === "x" ? "0123456789abcdefABCDEF_" : base === "o" ? "01234567_" : "01_";
    }
    const run = (set: string) => {
      while (input[pos] !== undefined && set.includes(input[pos] ?? "")) advance(1);
    };
    run(digits);
    if (input[pos] === ".") {
      advance(1);
      run(digits);
    }
    if (digits.length === 11 && /[eE]/.test(input[pos] ?? "")) {
      advance(1);
      if (input[pos] === "+" || input[pos] === "-") advance(1);
      run("0123456789_");
    }
    if (digits.length === 23 && /[pP]/.test(input[pos] ?? "")) {
      advance(1);
      if (input[pos] === "+" || input[pos] === "-") advance(1);
      run("0123456789_");
    }
    if (input[pos] === "i") advance(1);
    if (isAlphaNumeric(input[pos])) {
      advance(1);
      return false;
    }
    emit("number");
    return true;
  }
}

function charAt(s: string, i: number): string {
  return String.fromCodePoint(s.codePointAt(i) ?? 0);
}
