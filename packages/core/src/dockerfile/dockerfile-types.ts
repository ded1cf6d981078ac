/**
 * The parsed form of a Dockerfile: what the parser (`parseDockerfile`) hands the builder.
 *
 * Strings here are kept as written (after line continuations are joined and comments
 * dropped) and are NOT yet variable-expanded: docker expands `$VAR`/`${VAR:-w}` and removes
 * quotes per instruction at build time, with the environment and build args in force at
 * that step. The builder does that with {@link ShellWordExpander} for the instructions that
 * docker expands (ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ARG
 * ONBUILD-triggers-when-run HEALTHCHECK flags); RUN/CMD/ENTRYPOINT are never expanded by
 * strata (the shell does it, or exec form takes words literally).
 */

/** Where an instruction was written: 1-based lines, `endLine` after continuations. */
export interface SourceRange {
  readonly line: number;
  readonly endLine: number;
}

/** `--name=value` (or `--name` alone, value undefined) flags written before the arguments. */
export interface InstructionFlag {
  readonly name: string;
  readonly value: string | undefined;
}

/** A heredoc body (`<<EOF`, `<<-EOF` strips leading tabs, `<<"EOF"` / `<<'EOF'` does not expand). */
export interface Heredoc {
  readonly name: string;
  /** The body, each line ending in "\n", with tabs already stripped for `<<-`. */
  readonly content: string;
  /** False when the delimiter was quoted: the builder must not expand variables in it. */
  readonly expand: boolean;
}

/** Exec form `["a","b"]` (JSON array) or shell form (the rest of the line, raw). */
export type CommandForm =
  | { readonly kind: "exec"; readonly argv: readonly string[] }
  | { readonly kind: "shell"; readonly command: string };

/** `key=value` pairs of ENV and LABEL; key and value raw (quotes not yet removed). */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

interface InstructionBase extends SourceRange {
  /** The instruction as written on its line(s), continuations joined with the escape removed:
   *  what `Step N/M : …` prints and history's `created_by` is built from. */
  readonly original: string;
  readonly flags: readonly InstructionFlag[];
}

export interface FromInstruction extends InstructionBase {
  readonly keyword: "FROM";
  /** Raw image reference (may contain `$ARG` from args declared before the first FROM). */
  readonly image: string;
  /** `AS name`, lower-cased as docker does. */
  readonly stageName: string | undefined;
}

export interface RunInstruction extends InstructionBase {
  readonly keyword: "RUN";
  readonly command: CommandForm;
  /** Heredocs in order; with `RUN <<EOF` the first is the script itself. */
  readonly heredocs: readonly Heredoc[];
}

export interface CmdInstruction extends InstructionBase {
  readonly keyword: "CMD" | "ENTRYPOINT";
  readonly command: CommandForm;
}

export interface EnvInstruction extends InstructionBase {
  readonly keyword: "ENV" | "LABEL";
  readonly pairs: readonly KeyValue[];
}

export interface ArgInstruction extends InstructionBase {
  readonly keyword: "ARG";
  readonly args: readonly { readonly name: string; readonly defaultValue: string | undefined }[];
}

/** Instructions whose whole argument is one raw string: MAINTAINER USER WORKDIR STOPSIGNAL. */
export interface StringInstruction extends InstructionBase {
  readonly keyword: "MAINTAINER" | "USER" | "WORKDIR" | "STOPSIGNAL";
  readonly value: string;
}

/** Instructions whose argument is a list of raw words (JSON array or whitespace separated). */
export interface ListInstruction extends InstructionBase {
  readonly keyword: "EXPOSE" | "VOLUME";
  readonly values: readonly string[];
}

export interface ShellInstruction extends InstructionBase {
  readonly keyword: "SHELL";
  /** Always exec form; a non-JSON SHELL is a syntax error. */
  readonly argv: readonly string[];
}

export interface HealthcheckInstruction extends InstructionBase {
  readonly keyword: "HEALTHCHECK";
  /** `HEALTHCHECK NONE` gives `undefined`; the flags (--interval=…) stay in `flags`. */
  readonly command: CommandForm | undefined;
}

export interface OnbuildInstruction extends InstructionBase {
  readonly keyword: "ONBUILD";
  /** The trigger instruction as written (`RUN echo hi`), stored in the image config and
   *  parsed again when an image is built FROM this one. */
  readonly trigger: string;
}

export interface CopyInstruction extends InstructionBase {
  readonly keyword: "COPY" | "ADD";
  /** Raw source words (wildcards, URLs for ADD) in order; for heredoc sources the name. */
  readonly sources: readonly string[];
  readonly dest: string;
  /** Heredocs used as inline sources (`COPY <<EOF /file`). */
  readonly heredocs: readonly Heredoc[];
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EnvInstruction
  | ArgInstruction
  | StringInstruction
  | ListInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | CopyInstruction;

export type InstructionKeyword = Instruction["keyword"];

export interface BuildStage {
  /** 0-based position among the stages. */
  readonly index: number;
  /** `AS name` lower-cased, if any. */
  readonly name: string | undefined;
  readonly from: FromInstruction;
  /** The instructions after FROM, up to the next FROM. */
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** Parser directives found at the top (`# escape=`` ` ``, `# syntax=…`). */
  readonly directives: { readonly escape: "\\" | "`"; readonly syntax: string | undefined };
  /** ARG instructions written before the first FROM (usable in FROM lines only). */
  readonly metaArgs: readonly ArgInstruction[];
  readonly stages: readonly BuildStage[];
  /** Things a user should hear about but that are not errors (e.g. `syntax` ignored,
   *  empty continuation lines, MAINTAINER deprecated). */
  readonly warnings: readonly string[];
}

/**
 * Docker's shell-word processing for one instruction's arguments: removes quotes, handles
 * the escape character and expands `$v`, `${v}`, `${v:-w}`, `${v-w}`, `${v:+w}`, `${v+w}`,
 * `${v:?msg}`, `${v?msg}` (and `${v#p}` `${v##p}` `${v%p}` `${v%%p}` `${v/p/r}` as newer
 * docker does). Unset variables expand to "". Errors are `DockerfileSyntaxError`.
 */
export interface ShellWordExpander {
  /** One word: quotes removed, variables expanded, never split. */
  processWord(word: string, env: ReadonlyMap<string, string>): string;
  /** Whitespace outside quotes splits into words (what COPY/EXPOSE/VOLUME sources need). */
  processWords(word: string, env: ReadonlyMap<string, string>): string[];
}
