/**
 * The executor of Go's `text/template` (`text/template/exec.go`): walks a parse tree over
 * data, with Go's rules for fields, maps, variables, pipelines, control structures and
 * function calls, and Go's error wording
 * (`template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`).
 */
import { ExecEvaluator } from "./go-template-eval.js";
import { sprint } from "./go-template-fmt.js";
import type { FuncMap } from "./go-template-funcs.js";
import type { BranchNode, ListNode, Node } from "./go-template-nodes.js";
import { nodeString } from "./go-template-nodes.js";
import { GoTemplateExecError } from "./go-template-scope.js";
import { GoNil, isTrue, kindOf, numberValue, sortedKeys } from "./go-template-values.js";

/** What a missing map key yields: Go's `missingkey=default|zero|error` option. */
export type MissingKey = "default" | "zero" | "error";

export { GoTemplateExecError } from "./go-template-scope.js";

/** What the executor needs besides the tree and the data. */
export interface ExecContext {
  /** The template's source (for `line:column` in errors). */
  text: string;
  /** The template's name (`""` for docker's). */
  name: string;
  funcs: FuncMap;
  defined: ReadonlyMap<string, ListNode>;
  missingKey: MissingKey;
}

const BREAK = Symbol("break");
const CONTINUE = Symbol("continue");
const MAX_DEPTH = 1000;

/** Run `root` over `data` and return the output. @throws GoTemplateExecError */
export function executeTemplate(root: ListNode, data: unknown, ctx: ExecContext): string {
  const s = new State(ctx, ctx.name, [{ name: "$", value: data }], 0);
  try {
    s.walk(data, root);
  } catch (err) {
    if (err instanceof GoTemplateExecError) err.partial = s.out + err.partial;
    throw err;
  }
  return s.out;
}

class State extends ExecEvaluator {
  out = "";

  constructor(
    ctx: ExecContext,
    tmplName: string,
    vars: { name: string; value: unknown }[],
    private readonly depth: number,
  ) {
    super(ctx, tmplName, vars);
  }

  // --- walking ---

  walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case "action": {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case "text":
        this.out += node.text;
        return;
      case "list":
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case "if":
      case "with":
        this.walkIfOrWith(dot, node);
        return;
      case "range":
        this.walkRange(dot, node);
        return;
      case "break":
        throw BREAK;
      case "continue":
        throw CONTINUE;
      case "template": {
        const tree = this.ctx.defined.get(node.name);
        if (!tree) this.errorf(`no such template ${JSON.stringify(node.name)}`);
        if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
        const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
        const inner = new State(
          this.ctx,
          node.name,
          [{ name: "$", value: newDot }],
          this.depth + 1,
        );
        try {
          inner.walk(newDot, tree);
        } catch (err) {
          if (err instanceof GoTemplateExecError) err.partial = inner.out + err.partial;
          throw err;
        }
        this.out += inner.out;
        return;
      }
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) {
        this.walk(node.type === "with" ? val : dot, node.list);
      } else if (node.elseList) {
        this.walk(dot, node.elseList);
      }
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: unknown, node: BranchNode): void {
    this.at(node);
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      const mark = this.mark();
      const decl = node.pipe.decl;
      const one = (index: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (node.pipe.isAssign) {
            this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
            if (decl.length > 1) this.setVar(decl[1]!.ident[0]!, elem);
          } else {
            this.vars[this.vars.length - 1]!.value = elem;
            if (decl.length > 1) this.vars[this.vars.length - 2]!.value = index;
          }
        }
        try {
          this.walk(elem, node.list);
        } catch (e) {
          if (e === BREAK) return false;
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
        return true;
      };
      let ran = false;
      const kind = kindOf(val);
      if (val instanceof GoNil) {
        // a nil slice, map or pointer: nothing to iterate
      } else if (kind === "slice") {
        const arr = val as unknown[];
        for (let i = 0; i < arr.length; i++) {
          ran = true;
          if (!one(i, arr[i])) break;
        }
      } else if (kind === "map") {
        const m = val as Record<string, unknown>;
        for (const k of sortedKeys(m)) {
          ran = true;
          if (!one(k, m[k])) break;
        }
      } else if (kind === "int") {
        if (decl.length > 1) {
          this.errorf(`can't use ${sprint([val])} to iterate over more than one variable`);
        }
        const n = numberValue(val);
        for (let i = 0; i < n; i++) {
          ran = true;
          if (!one(i, i)) break;
        }
      } else if (kind !== "invalid" && kind !== "nil") {
        this.errorf(`range can't iterate over ${sprint([val])}`);
      }
      if (!ran && node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(outer);
    }
  }

  private printValue(node: Node, v: unknown): void {
    this.at(node);
    this.out += v === undefined || v === null ? "<no value>" : sprint([v]);
  }
}
