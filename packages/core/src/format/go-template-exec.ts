/**
 * The executor of Go's `text/template` (`text/template/exec.go`): walks a parse tree over
 * data, with Go's rules for fields, maps, variables, pipelines, control structures and
 * function calls, and Go's error wording
 * (`template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`).
 */
import { sprint } from "./go-template-fmt.js";
import {
  checkParam,
  FuncError,
  type FuncMap,
  type GoFunc,
  type ParamType,
} from "./go-template-funcs.js";
import type {
  ArgNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  VariableNode,
} from "./go-template-nodes.js";
import { nodeString } from "./go-template-nodes.js";
import { ExecScope, GoTemplateExecError } from "./go-template-scope.js";
import {
  GoFloat,
  GoNil,
  goTypeOf,
  isTrue,
  kindOf,
  numberValue,
  sortedKeys,
  typeName,
} from "./go-template-values.js";

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

const MISSING: unique symbol = Symbol("missing");
type Final = unknown | typeof MISSING;
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

class State extends ExecScope {
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

  // --- evaluation ---

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      const name = v.ident[0] ?? "";
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0] as Node)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0] as ArgNode;
    switch (first.type) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        return this.errorf("nil is not a command");
      case "number":
        return this.idealConstant(first);
      case "string":
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): unknown {
    this.at(n);
    const { value, text } = n;
    if (
      value.isFloat &&
      !/^[+-]?0[xX]/.test(text) &&
      !text.startsWith("'") &&
      /[.eEpP]/.test(text)
    ) {
      return Number.isInteger(value.float) ? new GoFloat(value.float) : value.float;
    }
    if (value.isInt) return value.int;
    return undefined;
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[], final: Final) {
    this.at(field);
    return this.evalFieldChain(dot, dot, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[], final: Final) {
    if (chain.node.type === "nil")
      this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, "any", chain.node);
    return this.evalFieldChain(dot, pipe, chain.field, args, final);
  }

  private evalVariableNode(
    dot: unknown,
    v: VariableNode,
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0] ?? "");
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(dot, value, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    ident: readonly string[],
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): unknown {
    let r = receiver;
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) {
      r = this.evalField(dot, ident[i] ?? "", undefined, MISSING, r);
    }
    return this.evalField(dot, ident[n - 1] ?? "", args, final, r);
  }

  private evalField(
    dot: unknown,
    fieldName: string,
    args: readonly ArgNode[] | undefined,
    final: Final,
    receiver: unknown,
  ): unknown {
    const { missingKey } = this.ctx;
    if (receiver === undefined) {
      if (missingKey === "error")
        this.errorf(`nil data; no entry for key ${JSON.stringify(fieldName)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
    if (receiver instanceof GoNil) {
      if (receiver.kind === "pointer") {
        this.errorf(`nil pointer evaluating ${receiver.typeName}.${fieldName}`);
      }
      if (receiver.kind === "map")
        return this.missingEntry(fieldName, receiver.typeName === "map[string]string");
    }
    const kind = kindOf(receiver);
    const obj = receiver as Record<string, unknown>;
    if (kind === "struct") {
      if (Object.hasOwn(obj, fieldName)) {
        const v = obj[fieldName];
        if (typeof v === "function") {
          // A method: called with the command's arguments (docker's `.Label "k"`).
          const method: GoFunc = {
            params: Array.from({ length: v.length }, () => "any" as const),
            fn: (...a: unknown[]) => (v as (...x: unknown[]) => unknown).apply(obj, a),
          };
          return this.evalCall(dot, method, this.currentNode(), fieldName, args, final);
        }
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return v ?? null;
      }
    } else if (kind === "map") {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      if (Object.hasOwn(obj, fieldName)) return obj[fieldName] ?? null;
      return this.missingEntry(fieldName, goTypeOf(obj)?.elem === "string");
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private missingEntry(key: string, stringElem: boolean): unknown {
    switch (this.ctx.missingKey) {
      case "error":
        return this.errorf(`map has no entry for key ${JSON.stringify(key)}`);
      case "zero":
        return stringElem ? "" : null;
      default:
        return undefined;
    }
  }

  private evalFunction(
    dot: unknown,
    node: IdentifierNode,
    cmd: Node,
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): unknown {
    this.at(node);
    const fn = this.ctx.funcs[node.ident];
    if (!fn) this.errorf(`${JSON.stringify(node.ident)} is not a defined function`);
    return this.evalCall(dot, fn, cmd, node.ident, args, final);
  }

  private evalCall(
    dot: unknown,
    fn: GoFunc,
    node: Node,
    name: string,
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): unknown {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const numFixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < numFixed) {
        this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${numIn}`);
      }
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    const paramType = (i: number): ParamType =>
      (i < numFixed ? fn.params[i] : fn.variadic) ?? "any";
    let argv: unknown[];
    if (fn.lazy) {
      argv = argNodes.map((a) => () => this.evalArg(dot, "any", a));
      if (final !== MISSING) argv.push(() => final);
    } else {
      argv = argNodes.map((a, i) => this.evalArg(dot, paramType(i), a));
      if (final !== MISSING) {
        this.at(node);
        argv.push(this.validateType(final, paramType(numIn - 1)));
      }
    }
    try {
      return fn.fn(...argv);
    } catch (err) {
      if (!(err instanceof FuncError)) throw err;
      this.at(node);
      return this.errorf(`error calling ${name}: ${err.message}`);
    }
  }

  private validateType(value: unknown, type: ParamType): unknown {
    const problem = checkParam(value, type);
    if (problem) this.errorf(problem);
    return value;
  }

  private evalArg(dot: unknown, type: ParamType, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case "dot":
        return this.validateType(dot, type);
      case "nil":
        if (type === "any" || type === "[]string") return null;
        return this.errorf(`cannot assign nil to ${type}`);
      case "field":
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), type);
      case "variable":
        return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), type);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), type);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, undefined, MISSING), type);
      case "chain":
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), type);
    }
    switch (type) {
      case "any":
        if (n.type === "bool") return n.value;
        if (n.type === "string") return n.text;
        return this.idealConstant(n);
      case "string":
        if (n.type === "string") return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case "int":
        if (n.type === "number" && n.value.isInt) return n.value.int;
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      default:
        return this.errorf(`can't handle ${nodeString(n)} for arg of type ${type}`);
    }
  }
}
