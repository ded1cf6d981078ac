/**
 * Expression evaluation of Go's `text/template` executor: pipelines, commands, field
 * chains on structs and maps, variables, constants and function calls with Go's argument
 * checks. The tree walk ({@link ./go-template-exec}) builds on it.
 */
import { checkParam, FuncError, type GoFunc, type ParamType } from "./go-template-funcs.js";
import type {
  ArgNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  Node,
  NumberNode,
  PipeNode,
  VariableNode,
} from "./go-template-nodes.js";
import { nodeString } from "./go-template-nodes.js";
import { ExecScope } from "./go-template-scope.js";
import { GoFloat, GoNil, goTypeOf, kindOf, typeName } from "./go-template-values.js";

/** Marks "no final value": the first command of a pipeline gets none. */
export const MISSING: unique symbol = Symbol("missing");
/** The value piped into a command, or {@link MISSING}. */
export type Final = unknown | typeof MISSING;

/** Evaluation of a template's expressions over a variable scope. */
export abstract class ExecEvaluator extends ExecScope {
  // --- evaluation ---

  protected evalPipeline(dot: unknown, pipe: PipeNode): unknown {
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
