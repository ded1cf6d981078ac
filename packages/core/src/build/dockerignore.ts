import * as fs from "node:fs";
import * as path from "node:path";
import {
  createIgnoreMatcher,
  type IgnoreMatcher,
  parseDockerignore,
} from "../dockerfile/dockerignore.js";

/**
 * The `.dockerignore` of a build context, compiled with docker's rules (the parser's
 * {@link parseDockerignore} and {@link createIgnoreMatcher}).
 * @returns undefined when the context has no `.dockerignore`.
 * @throws InvalidArgumentError for a malformed pattern.
 * @experimental
 */
export function readDockerignore(contextDir: string): IgnoreMatcher | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(contextDir, ".dockerignore"), "utf8");
  } catch {
    return undefined;
  }
  return createIgnoreMatcher(parseDockerignore(text));
}
