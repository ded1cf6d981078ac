import { DockerfileSyntaxError } from "../errors.js";
import { scanDockerfile } from "./dockerfile-scanner.js";
import type {
  ArgInstruction,
  BuildStage,
  Dockerfile,
  FromInstruction,
  Instruction,
} from "./dockerfile-types.js";
import { parseInstruction } from "./instruction-parser.js";

/**
 * Parses a Dockerfile as docker's reference defines the language: parser directives
 * (`# escape=`, `# syntax=` which is ignored with a warning), comments, line continuations,
 * heredocs, exec and shell forms, and every instruction's argument rules. Nothing is
 * expanded here: the builder expands words per step with a {@link ShellWordExpander}.
 *
 * Instructions before the first FROM may only be ARGs (they become `metaArgs`).
 *
 * @example
 * ```ts
 * const df = parseDockerfile("FROM busybox AS base\nENV HOSTNAME=shiyanlou\n");
 * df.stages[0].name; // "base"
 * ```
 * @throws DockerfileSyntaxError naming the line, e.g.
 *   `Dockerfile parse error on line 3: unknown instruction: FRMO (did you mean FROM?)`.
 */
export function parseDockerfile(text: string): Dockerfile {
  const scanned = scanDockerfile(text);
  if (scanned.lines.length === 0) throw new DockerfileSyntaxError("the Dockerfile cannot be empty");
  const metaArgs: ArgInstruction[] = [];
  const stages: { from: FromInstruction; instructions: Instruction[] }[] = [];
  const warnings = [...scanned.warnings];
  const stageNames = new Set<string>();
  for (const line of scanned.lines) {
    let instruction: Instruction;
    try {
      instruction = parseInstruction(line, scanned.escapeToken);
    } catch (err) {
      if (!(err instanceof DockerfileSyntaxError)) throw err;
      throw new DockerfileSyntaxError(err.reason, line.line, { cause: err });
    }
    if (instruction.keyword === "FROM") {
      if (instruction.stageName !== undefined) {
        if (stageNames.has(instruction.stageName)) {
          throw new DockerfileSyntaxError(
            `duplicate stage name ${JSON.stringify(instruction.stageName)}`,
            line.line,
          );
        }
        stageNames.add(instruction.stageName);
      }
      stages.push({ from: instruction, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (instruction.keyword === "ARG") {
        metaArgs.push(instruction);
        continue;
      }
      throw new DockerfileSyntaxError("no build stage in current context", line.line);
    }
    if (instruction.keyword === "MAINTAINER") {
      warnings.push(
        `line ${line.line}: the MAINTAINER instruction is deprecated in favor of using LABEL`,
      );
    }
    stage.instructions.push(instruction);
  }
  if (stages.length === 0) {
    throw new DockerfileSyntaxError("dockerfile contains no stages to build");
  }
  return {
    directives: { escape: scanned.escapeToken, syntax: scanned.syntax },
    metaArgs,
    stages: stages.map(
      (s, index): BuildStage => ({
        index,
        name: s.from.stageName,
        from: s.from,
        instructions: s.instructions,
      }),
    ),
    warnings,
  };
}

/**
 * True for the instructions that add a filesystem layer (RUN, COPY, ADD); the others only
 * change the image config. The builder counts these against docker's 127-layer limit.
 */
export function instructionCreatesLayer(instruction: Instruction): boolean {
  return (
    instruction.keyword === "RUN" || instruction.keyword === "COPY" || instruction.keyword === "ADD"
  );
}
