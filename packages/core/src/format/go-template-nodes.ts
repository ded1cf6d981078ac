/**
 * The parse tree of a Go template (`text/template/parse/node.go`), with Go's `String()`
 * forms, which execution errors quote (`executing "" at <.Config.Foo>: …`).
 */

/** A parsed number constant: Go's `NumberNode` flags and values. */
export interface NumberValue {
  isInt: boolean;
  isFloat: boolean;
  int: number;
  float: number;
}

/** Nodes that can be an argument of a command. */
export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

/** `.A.B`. */
export interface FieldNode {
  type: "field";
  pos: number;
  ident: string[];
}
/** `$x.A.B` (`ident[0]` is the variable's name with its `$`). */
export interface VariableNode {
  type: "variable";
  pos: number;
  ident: string[];
}
/** `(pipeline).A.B` or `term.A`: fields of something that is not a field or variable. */
export interface ChainNode {
  type: "chain";
  pos: number;
  node: ArgNode;
  field: string[];
}
/** A function name. */
export interface IdentifierNode {
  type: "identifier";
  pos: number;
  ident: string;
}
/** `.` */
export interface DotNode {
  type: "dot";
  pos: number;
}
/** `nil` */
export interface NilNode {
  type: "nil";
  pos: number;
}
/** `true` / `false` */
export interface BoolNode {
  type: "bool";
  pos: number;
  value: boolean;
}
/** A number or character constant. */
export interface NumberNode {
  type: "number";
  pos: number;
  text: string;
  value: NumberValue;
}
/** A quoted string: `quoted` as written, `text` unquoted. */
export interface StringNode {
  type: "string";
  pos: number;
  quoted: string;
  text: string;
}
/** One command of a pipeline: a function, field or value and its arguments. */
export interface CommandNode {
  type: "command";
  pos: number;
  args: ArgNode[];
}
/** A pipeline, with its variable declarations (`$x := …`) or assignment (`$x = …`). */
export interface PipeNode {
  type: "pipe";
  pos: number;
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
/** Literal text. */
export interface TextNode {
  type: "text";
  pos: number;
  text: string;
}
/** `{{pipeline}}`: prints the result unless it declares variables. */
export interface ActionNode {
  type: "action";
  pos: number;
  line: number;
  pipe: PipeNode;
}
/** `{{if}}`, `{{with}}` and `{{range}}`, with their else branch. */
export interface BranchNode {
  type: "if" | "with" | "range";
  pos: number;
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}
/** `{{break}}` / `{{continue}}` inside a range. */
export interface LoopControlNode {
  type: "break" | "continue";
  pos: number;
  line: number;
}
/** `{{template "name" pipeline}}`. */
export interface TemplateNode {
  type: "template";
  pos: number;
  line: number;
  name: string;
  pipe?: PipeNode;
}
/** A sequence of nodes. */
export interface ListNode {
  type: "list";
  pos: number;
  nodes: Node[];
}

/** Any node of a parse tree. */
export type Node =
  | ArgNode
  | CommandNode
  | TextNode
  | ActionNode
  | BranchNode
  | LoopControlNode
  | TemplateNode
  | ListNode;

/** Go's `Node.String()`: the source form of a node. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case "field":
      return n.ident.map((i) => `.${i}`).join("");
    case "variable":
      return n.ident.join(".");
    case "chain": {
      const base = n.node.type === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node);
      return base + n.field.map((f) => `.${f}`).join("");
    }
    case "identifier":
      return n.ident;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return n.value ? "true" : "false";
    case "number":
      return n.text;
    case "string":
      return n.quoted;
    case "command":
      return n.args
        .map((a) => (a.type === "pipe" ? `(${nodeString(a)})` : nodeString(a)))
        .join(" ");
    case "pipe": {
      let s = "";
      if (n.decl.length > 0) {
        s = n.decl.map(nodeString).join(", ") + (n.isAssign ? " = " : " := ");
      }
      return s + n.cmds.map(nodeString).join(" | ");
    }
    case "text":
      return n.text;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "if":
    case "with":
    case "range": {
      const els = n.elseList ? `{{else}}${nodeString(n.elseList)}` : "";
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${els}{{end}}`;
    }
    case "break":
    case "continue":
      return `{{${n.type}}}`;
    case "template":
      return n.pipe
        ? `{{template ${JSON.stringify(n.name)} ${nodeString(n.pipe)}}}`
        : `{{template ${JSON.stringify(n.name)}}}`;
    case "list":
      return n.nodes.map(nodeString).join("");
  }
}
