/**
 * Go's `text/template`, as docker's `--format` flags use it: parse once, execute over
 * strata's JSON-like data with Go's semantics and error messages.
 *
 * Supported: text and actions with trim markers (`{{- x -}}`) and comments; field chains
 * on structs and maps (`.Config.Env`), variables (`$x := …`, `$x = …`, `$`), pipelines
 * (`.Name | upper`) and parentheses; `if`/`else if`/`else`, `with`/`else with`, `range`
 * over slices, maps (keys sorted) and integers with `$i, $v :=`, `break`, `continue`;
 * `define`, `template`, `block`; Go's builtins and docker's `json split join title lower
 * upper pad truncate`. See {@link ./go-template-values} for how Go types map to data.
 *
 * @example
 * ```ts
 * const t = GoTemplate.parse("{{range .RootFS.Layers}}{{println .}}{{end}}");
 * t.execute(inspect, { missingKey: "error" });
 * ```
 */
import { InvalidArgumentError } from "../errors.js";
import { executeTemplate, GoTemplateExecError, type MissingKey } from "./go-template-exec.js";
import { BUILTINS, DOCKER_FUNCS, type FuncMap } from "./go-template-funcs.js";
import type { ListNode } from "./go-template-nodes.js";
import { GoTemplateSyntaxError, parseTemplate } from "./go-template-parser.js";

export type { MissingKey } from "./go-template-exec.js";
export {
  DOCKER_FUNCS,
  DOCKER_HEADER_FUNCS,
  type FuncMap,
  type GoFunc,
} from "./go-template-funcs.js";
export { goJson } from "./go-template-json.js";
export {
  GO_TYPE,
  GoFloat,
  GoNil,
  type GoTypeInfo,
  goMap,
  goStruct,
} from "./go-template-values.js";

/**
 * A template that failed to parse (`phase: "parse"`) or to execute (`phase: "exec"`). The
 * message is Go's (`template: :1: unclosed action`); docker prefixes it with `template
 * parsing error: ` in both cases.
 */
export class GoTemplateError extends InvalidArgumentError {
  constructor(
    message: string,
    readonly phase: "parse" | "exec",
    /** For an execution error: what the template printed before it failed. */
    readonly partial = "",
  ) {
    super(message);
  }
}

/** Options of {@link GoTemplate.parse}. */
export interface GoTemplateParseOptions {
  /** The template's name, shown in errors (docker's are all `""`). */
  name?: string;
  /** Functions added to Go's builtins and docker's (and overriding them). */
  funcs?: FuncMap;
}

/** Options of {@link GoTemplate.execute}. */
export interface GoTemplateExecuteOptions {
  /** Go's `missingkey` option; docker's inspect uses `error`, its listings `default`. */
  missingKey?: MissingKey;
  /** Functions replacing those given at parse time (docker's table headers use this). */
  funcs?: FuncMap;
}

/** A parsed Go template. */
export class GoTemplate {
  private constructor(
    /** The template's source text. */
    readonly text: string,
    private readonly name: string,
    private readonly root: ListNode,
    private readonly defined: ReadonlyMap<string, ListNode>,
    private readonly funcs: FuncMap,
  ) {}

  /**
   * Parse `text`.
   * @throws GoTemplateError (phase `parse`) with Go's message.
   */
  static parse(text: string, opts: GoTemplateParseOptions = {}): GoTemplate {
    const funcs: FuncMap = { ...BUILTINS, ...DOCKER_FUNCS, ...opts.funcs };
    const name = opts.name ?? "";
    try {
      const { root, defined } = parseTemplate(text, (f) => Object.hasOwn(funcs, f), name);
      return new GoTemplate(text, name, root, defined, funcs);
    } catch (err) {
      if (err instanceof GoTemplateSyntaxError) throw new GoTemplateError(err.message, "parse");
      throw err;
    }
  }

  /**
   * Run the template over `data` and return what it printed.
   * @throws GoTemplateError (phase `exec`) with Go's message.
   */
  execute(data: unknown, opts: GoTemplateExecuteOptions = {}): string {
    try {
      return executeTemplate(this.root, data, {
        text: this.text,
        name: this.name,
        funcs: opts.funcs ? { ...this.funcs, ...opts.funcs } : this.funcs,
        defined: this.defined,
        missingKey: opts.missingKey ?? "default",
      });
    } catch (err) {
      if (err instanceof GoTemplateExecError) {
        throw new GoTemplateError(err.message, "exec", err.partial);
      }
      throw err;
    }
  }
}
