/**
 * The parser of Go's `text/template` (`text/template/parse/parse.go`): builds the parse
 * tree of a template and of the templates it `define`s, reporting errors with Go's
 * wording (`template: :1: function "foo" not defined`).
 */
import { type Item, lex } from "./go-template-lexer.js";
import { describe, parseNumber, unquote } from "./go-template-literals.js";
import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  VariableNode,
} from "./go-template-nodes.js";
import { nodeString } from "./go-template-nodes.js";

/** A parse failure; `message` is Go's full text (`template: :1: unclosed action`). */
export class GoTemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoTemplateSyntaxError";
  }
}

/** The result of parsing: the main tree and the named templates it defines. */
export interface ParsedTemplate {
  root: ListNode;
  defined: Map<string, ListNode>;
}

type End = { type: "end"; pos: number } | { type: "else"; pos: number; line: number };

/**
 * Parse `text` as template `name` (docker's templates are all named `""`). `hasFunction`
 * tells which identifiers are functions, as Go checks them at parse time.
 * @throws GoTemplateSyntaxError
 */
export function parseTemplate(
  text: string,
  hasFunction: (name: string) => boolean,
  name = "",
): ParsedTemplate {
  return new Parser(text, hasFunction, name).parse();
}

class Parser {
  private readonly items: Item[];
  private i = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;
  private readonly defined = new Map<string, ListNode>();

  constructor(
    text: string,
    private readonly hasFunction: (name: string) => boolean,
    private readonly name: string,
  ) {
    this.items = lex(text);
  }

  parse(): ParsedTemplate {
    const root: ListNode = { type: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== "eof") {
      if (this.peek().type === "leftDelim") {
        const save = this.i;
        this.next();
        const t = this.nextNonSpace();
        if (t.type === "keyword" && t.val === "define") {
          this.parseDefinition();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if ("type" in n && (n.type === "end" || n.type === "else")) {
        this.errorf(`unexpected {{${n.type}}}`);
      }
      root.nodes.push(n as Node);
    }
    return { root, defined: this.defined };
  }

  // --- tokens ---

  private current(): Item {
    return this.items[Math.min(this.i, this.items.length - 1)] as Item;
  }

  private next(): Item {
    const t = this.current();
    if (t.type === "error") this.errorf(t.val, t);
    if (this.i < this.items.length) this.i++;
    return t;
  }

  private peek(): Item {
    const t = this.current();
    if (t.type === "error") this.errorf(t.val, t);
    return t;
  }

  private backup(n = 1): void {
    this.i -= n;
  }

  private nextNonSpace(): Item {
    let t = this.next();
    while (t.type === "space") t = this.next();
    return t;
  }

  private peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private lastLine = 1;

  private errorf(message: string, at?: Item): never {
    const line = at?.line ?? this.items[Math.max(0, this.i - 1)]?.line ?? this.lastLine;
    throw new GoTemplateSyntaxError(`template: ${this.name}:${line}: ${message}`);
  }

  private expect(type: Item["type"], context: string): Item {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Item, context: string): never {
    if (t.type === "error") this.errorf(t.val, t);
    this.errorf(`unexpected ${describe(t)} in ${context}`, t);
  }

  // --- structure ---

  private parseDefinition(): void {
    const context = "define clause";
    const nameTok = this.nextNonSpace();
    const name = this.templateName(nameTok, context);
    this.expect("rightDelim", context);
    const saved = this.vars;
    this.vars = ["$"];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== "end") this.errorf(`unexpected {{${end.type}}} in ${context}`);
    this.defined.set(name, list);
  }

  private templateName(t: Item, context: string): string {
    if (t.type === "string" || t.type === "rawString") return unquote(t.val, (m) => this.errorf(m));
    this.unexpected(t, context);
  }

  private textOrAction(): Node | End {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "text":
        return { type: "text", pos: t.pos, text: t.val };
      case "leftDelim":
        return this.action();
      case "comment":
        return { type: "text", pos: t.pos, text: "" };
      default:
        this.unexpected(t, "input");
    }
  }

  private action(): Node | End {
    const t = this.nextNonSpace();
    if (t.type === "keyword") {
      switch (t.val) {
        case "block":
          return this.blockControl();
        case "break":
        case "continue": {
          const kw = t.val;
          if (this.rangeDepth === 0) this.errorf(`{{${kw}}} outside {{range}}`, t);
          this.expect("rightDelim", kw);
          return { type: kw, pos: t.pos, line: t.line };
        }
        case "else": {
          const peek = this.peekNonSpace();
          if (peek.type === "keyword" && (peek.val === "if" || peek.val === "with")) {
            return { type: "else", pos: peek.pos, line: peek.line };
          }
          const r = this.expect("rightDelim", "else");
          return { type: "else", pos: r.pos, line: r.line };
        }
        case "end":
          return { type: "end", pos: this.expect("rightDelim", "end").pos };
        case "if":
        case "with":
        case "range":
          return this.branch(t.val);
        case "template":
          return this.templateControl();
      }
    }
    this.backup();
    const tok = this.peek();
    return {
      type: "action",
      pos: tok.pos,
      line: tok.line,
      pipe: this.pipeline("command", "rightDelim"),
    };
  }

  private itemList(): [ListNode, End] {
    const list: ListNode = { type: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== "eof") {
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") return [list, n as End];
      list.nodes.push(n as Node);
    }
    this.errorf("unexpected EOF");
  }

  private branch(context: "if" | "with" | "range"): BranchNode {
    const depth = this.vars.length;
    const pipe = this.pipeline(context, "rightDelim");
    if (context === "range") this.rangeDepth++;
    const [list, next] = this.itemList();
    if (context === "range") this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (next.type === "else") {
      const peek = this.peek();
      if (context !== "range" && peek.type === "keyword" && peek.val === context) {
        // `{{else if …}}` / `{{else with …}}`: an else branch holding one nested branch,
        // whose `{{end}}` closes both.
        this.next();
        elseList = { type: "list", pos: next.pos, nodes: [this.branch(context)] };
      } else {
        const [els, end] = this.itemList();
        if (end.type !== "end") this.errorf(`expected end; found {{${end.type}}}`);
        elseList = els;
      }
    }
    this.vars.length = depth;
    const node: BranchNode = { type: context, pos: pipe.pos, line: pipe.line, pipe, list };
    if (elseList) node.elseList = elseList;
    return node;
  }

  private templateControl(): Node {
    const context = "template clause";
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().type !== "rightDelim") {
      this.backup();
      pipe = this.pipeline(context, "rightDelim");
    }
    return { type: "template", pos: t.pos, line: t.line, name, ...(pipe ? { pipe } : {}) };
  }

  private blockControl(): Node {
    const context = "block clause";
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, "rightDelim");
    const saved = this.vars;
    this.vars = ["$"];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== "end") this.errorf(`unexpected {{${end.type}}} in ${context}`);
    this.defined.set(name, list);
    return { type: "template", pos: t.pos, line: t.line, name, pipe };
  }

  // --- pipelines ---

  private pipeline(context: string, end: "rightDelim" | "rightParen"): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = {
      type: "pipe",
      pos: first.pos,
      line: first.line,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== "variable") break;
      const save = this.i;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === "assign" || next.type === "declare") {
        pipe.isAssign = next.type === "assign";
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        break;
      }
      if (next.type === "char" && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const p = this.peekNonSpace().type;
          if (p === "variable" || p === "rightDelim" || p === "rightParen") continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // `$x` is an operand, not a declaration: give back what was read.
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.type) {
        case "bool":
        case "charConstant":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]?.type;
      if (t === "bool" || t === "dot" || t === "nil" || t === "number" || t === "string") {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === "space") continue;
      if (t.type === "rightDelim" || t.type === "rightParen") this.backup();
      else if (t.type !== "pipe") this.unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== "field") return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === "field") fields.push(this.next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        return this.errorf(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
      default:
        return { type: "chain", pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!this.hasFunction(t.val)) this.errorf(`function ${JSON.stringify(t.val)} not defined`);
        return { type: "identifier", pos: t.pos, ident: t.val };
      case "dot":
        return { type: "dot", pos: t.pos };
      case "nil":
        return { type: "nil", pos: t.pos };
      case "variable":
        return this.useVar(t);
      case "field":
        return { type: "field", pos: t.pos, ident: [t.val.slice(1)] };
      case "bool":
        return { type: "bool", pos: t.pos, value: t.val === "true" };
      case "charConstant":
      case "number":
        return this.number(t);
      case "leftParen":
        return this.pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString":
        return {
          type: "string",
          pos: t.pos,
          quoted: t.val,
          text: unquote(t.val, (m) => this.errorf(m)),
        };
    }
    this.backup();
    return undefined;
  }

  private useVar(t: Item): VariableNode {
    const ident = t.val.split(".");
    const name = ident[0] ?? "";
    if (!this.vars.includes(name)) this.errorf(`undefined variable ${JSON.stringify(name)}`);
    return { type: "variable", pos: t.pos, ident };
  }

  private number(t: Item): NumberNode {
    const value = parseNumber(t.val, t.type === "charConstant", (m) => this.errorf(m));
    return { type: "number", pos: t.pos, text: t.val, value };
  }
}
