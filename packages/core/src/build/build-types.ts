import type { Writable } from "node:stream";
import type { IgnoreMatcher } from "../dockerfile/dockerignore.js";

/**
 * Options of {@link Builder.build} (`docker build`'s flags).
 * @experimental
 */
export interface BuildOptions {
  /** The context directory (a tar context is extracted to one first; see `BuildContext`). */
  contextDir: string;
  /** `-t NAME[:TAG]`, repeatable. */
  tags?: string[];
  /** `--build-arg K=V` already resolved (`--build-arg K` takes K's value from the environment). */
  buildArgs?: Record<string, string>;
  /** `--no-cache`. */
  noCache?: boolean;
  /** `--target STAGE`: stop after that stage. */
  target?: string;
  /** `--label K=V`: set on the final image. */
  labels?: Record<string, string>;
  /** `--network`: what RUN containers get (`none`, the default, or `host`). */
  network?: string;
  /** Where the step lines and RUN output go (docker's classic builder stream). */
  out: Writable;
  /** `.dockerignore`'s matcher: the paths it excludes are never seen by COPY and ADD. */
  ignore?: IgnoreMatcher;
  signal?: AbortSignal;
}

/** What a build made. @experimental */
export interface BuildResult {
  /** The final image's ID (`sha256:…`). */
  imageId: string;
  /** The tags set on it, familiar form. */
  tags: string[];
  /** Build args given but never declared by an ARG (docker warns about them). */
  unusedArgs: string[];
}
