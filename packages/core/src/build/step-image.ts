import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveInRoot } from "../container/rootfs-lookup.js";
import { TreeGuard } from "../diff/tree-guard.js";
import type { RunInstruction } from "../dockerfile/dockerfile-types.js";
import { emptyContainerConfig } from "../image/config-changes.js";
import { hostArchitecture } from "../image/image-importer.js";
import type { ContainerConfig, ImageConfig } from "../image/image-types.js";
import {
  commandArgv,
  PREDEFINED_ARGS,
  runConfig,
  type StageState,
  shellOf,
} from "./build-state.js";
import type { StepLayer } from "./build-workspace.js";

/** What a step commits: docker's `container_config.Cmd`, history line, cache key, layer. */
export interface StepRecord {
  cmd: string[];
  createdBy: string;
  key: string;
  layer?: StepLayer | undefined;
  containerId?: string;
}

/**
 * The image config a step makes on top of `state` (docker's classic builder's shape:
 * `config` and `container_config` with the step's command, `history` with its line and
 * `empty_layer` when it wrote no layer).
 */
export function stepImageConfig(state: StageState, step: StepRecord): ImageConfig {
  const parent = state.imageId;
  const created = new Date().toISOString();
  const cfg: ContainerConfig = { ...runConfig(state), Image: parent ?? "" };
  const base = state.config;
  const diffIds = state.layers.map((l) => l.diffId);
  if (step.layer) diffIds.push(step.layer.diffId);
  return {
    architecture: base.architecture,
    ...(base.variant ? { variant: base.variant } : {}),
    ...(base.author ? { author: base.author } : {}),
    config: cfg,
    ...(step.containerId ? { container: step.containerId } : {}),
    container_config: { ...cfg, Cmd: step.cmd },
    created,
    docker_version: "strata",
    history: [
      ...(base.history ?? []),
      { created, created_by: step.createdBy, ...(step.layer ? {} : { empty_layer: true }) },
    ],
    os: base.os,
    rootfs: { type: "layers", diff_ids: diffIds },
  };
}

/** The config a `FROM scratch` stage starts from. */
export function scratchConfig(): ImageConfig {
  return {
    architecture: hostArchitecture(),
    os: "linux",
    config: { ...emptyContainerConfig() },
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
}

/** A RUN step's command line, environment and cache key. */
export interface RunCommand {
  argv: string[];
  /** Build args for the command's environment: declared ones ENV does not set, then proxies. */
  env: string[];
  /** docker's `|N K=V… argv` (the declared args only): history line and cache key. */
  saveCmd: string[];
  key: string;
}

/**
 * What a RUN runs and how it is cached, as docker's classic builder does it: the declared
 * build args the config's ENV does not override go to the command's environment and into
 * `|N K=V` before the command (so a changed value misses the cache); the predefined proxy
 * args reach the environment only.
 */
export function runCommand(
  instr: RunInstruction,
  state: StageState,
  buildArgs: Readonly<Record<string, string>>,
): RunCommand {
  const argv = runArgv(instr, shellOf(state));
  const envNames = new Set((runConfig(state).Env ?? []).map((e) => e.split("=")[0]));
  const argEnv: string[] = [];
  for (const [k, v] of [...state.args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (v !== undefined && !envNames.has(k)) argEnv.push(`${k}=${v}`);
  }
  const proxyEnv = Object.entries(buildArgs)
    .filter(([k]) => PREDEFINED_ARGS.has(k) && !state.args.has(k))
    .map(([k, v]) => `${k}=${v}`);
  const saveCmd = argEnv.length > 0 ? [`|${argEnv.length}`, ...argEnv, ...argv] : argv;
  const heredocs = instr.heredocs.map((h) => h.content).join("\0");
  const hash = heredocs ? `:${createHash("sha256").update(heredocs).digest("hex")}` : "";
  return {
    argv,
    env: [...argEnv, ...proxyEnv],
    saveCmd,
    key: `run:${JSON.stringify(saveCmd)}${hash}`,
  };
}

/** The argv of a RUN: exec form as is; shell form in the shell, heredocs inlined. */
function runArgv(instr: RunInstruction, shell: readonly string[]): string[] {
  if (instr.command.kind === "exec") return [...instr.command.argv];
  let script = instr.command.command;
  const [first, ...rest] = instr.heredocs;
  if (first && new RegExp(`^<<-?(["']?)${escapeRe(first.name)}\\1$`).test(script.trim())) {
    // `RUN <<EOF`: the heredoc is the script itself.
    script = first.content;
    for (const h of rest) script += `${h.content}${h.name}\n`;
  } else if (instr.heredocs.length > 0) {
    // `RUN cmd <<EOF`: the shell reads the heredocs, written after the command line.
    script += "\n";
    for (const h of instr.heredocs) script += `${h.content}${h.name}\n`;
  }
  return commandArgv({ kind: "shell", command: script }, shell);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Create WORKDIR's directory (and missing parents) inside the tree, as docker does. */
export async function makeWorkdir(rootfs: string, dir: string): Promise<void> {
  const abs = resolveInRoot(rootfs, dir);
  const rel = path.relative(rootfs, abs).split(path.sep).join("/");
  if (rel === "" || rel.startsWith("..")) return;
  new TreeGuard(rootfs).parents(`${rel}/x`, true);
  if (!fs.lstatSync(abs, { throwIfNoEntry: false })) fs.mkdirSync(abs, 0o755);
}
