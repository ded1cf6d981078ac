/**
 * The bookkeeping of a template execution: the variable stack and the node being
 * evaluated, which execution errors name with its position (`template: :1:2: executing ""
 * at <.Foo>: …`).
 */
import type { ExecContext } from "./go-template-exec.js";
import type { Node } from "./go-template-nodes.js";
import { nodeString } from "./go-template-nodes.js";

/** An execution failure; `message` is Go's full text. */
export class GoTemplateExecError extends Error {
  /** What the template had printed before it failed (Go leaves it in the writer). */
  partial = "";

  constructor(message: string) {
    super(message);
    this.name = "GoTemplateExecError";
  }
}

/** Variables and error context of one template execution (Go's `state` minus the walk). */
export abstract class ExecScope {
  private node: Node | undefined;

  constructor(
    protected readonly ctx: ExecContext,
    /** The name of the template being executed (`executing "<name>"`). */
    protected readonly tmplName: string,
    protected readonly vars: { name: string; value: unknown }[],
  ) {}

  // --- errors ---

  /** The node being evaluated (for error context). */
  protected currentNode(): Node {
    return this.node as Node;
  }

  protected at(n: Node): void {
    this.node = n;
  }

  protected errorf(message: string): never {
    const n = this.node;
    if (!n) throw new GoTemplateExecError(`template: ${this.ctx.name}: ${message}`);
    const before = this.ctx.text.slice(0, n.pos);
    const nl = before.lastIndexOf("\n");
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1));
    throw new GoTemplateExecError(
      `template: ${this.ctx.name}:${line}:${col}: executing ${JSON.stringify(this.tmplName)} at <${nodeString(n)}>: ${message}`,
    );
  }

  // --- variables ---

  protected mark(): number {
    return this.vars.length;
  }

  protected pop(mark: number): void {
    this.vars.length = mark;
  }

  protected setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  protected varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    return this.errorf(`undefined variable: ${name}`);
  }
}
