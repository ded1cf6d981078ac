import { inject, injectable } from "tsyringe";
import { parseNetwork } from "../container/container-config.js";
import type { ContainerRecord } from "../container/container-types.js";
import { HashPipe } from "../content/hash-pipe.js";
import { instructionCreatesLayer, parseDockerfile } from "../dockerfile/dockerfile-parser.js";
import type {
  BuildStage,
  CopyInstruction,
  Dockerfile,
  Instruction,
  RunInstruction,
  ShellWordExpander,
} from "../dockerfile/dockerfile-types.js";
import { createShellWordExpander } from "../dockerfile/shell-word-expander.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { ImageStore } from "../image/image-store.js";
import type { ImageRecord } from "../image/image-types.js";
import {
  familiarString,
  parseReference,
  parseTagTarget,
  withDefaultTag,
} from "../image/reference.js";
import { ImagePuller } from "../registry/image-puller.js";
import { BuildCache } from "./build-cache.js";
import { SourceTree } from "./build-context.js";
import {
  applyMetadata,
  PREDEFINED_ARGS,
  runConfig,
  type StageState,
  shellOf,
  stepEnv,
} from "./build-state.js";
import type { BuildOptions, BuildResult } from "./build-types.js";
import { BuildWorkspace, type StepLayer } from "./build-workspace.js";
import { CopyPlan } from "./copy-step.js";
import {
  makeWorkdir,
  runCommand,
  type StepRecord,
  scratchConfig,
  stepImageConfig,
} from "./step-image.js";

/** The most layers an image may have (docker's limit, from AUFS/overlay's depth). */
export const MAX_IMAGE_LAYERS = 127;

/**
 * A RUN step's command failed: docker's `The command '…' returned a non-zero code: N`;
 * `docker build` exits with N.
 * @experimental
 */
export class BuildStepError extends FailedPreconditionError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** What one build shares between its stages and steps. */
interface BuildRun {
  opts: BuildOptions;
  expander: ShellWordExpander;
  buildArgs: Record<string, string>;
  usedArgs: Set<string>;
  context: SourceTree;
  stages: Map<string, StageState>;
  stageList: StageState[];
  step: number;
  total: number;
}

/**
 * `docker build` with the classic builder's behaviour: each instruction is a step that
 * makes an image (metadata-only ones write no layer; RUN runs in a real container; COPY
 * and ADD write through core's guarded applier), found again in the build cache by the
 * parent image and the step's key, and printed as docker prints it (`Step N/M : …`,
 * ` ---> <id>`, ` ---> Using cache`, `Successfully built …`).
 * @experimental
 */
@injectable()
export class Builder {
  constructor(
    @inject(ImageStore) private readonly images: ImageStore,
    @inject(BuildCache) readonly cache: BuildCache,
    @inject(BuildWorkspace) private readonly workspace: BuildWorkspace,
    @inject(ImagePuller) private readonly puller: ImagePuller,
  ) {}

  /**
   * Build `dockerfile` in `opts.contextDir`.
   * @throws InvalidArgumentError for a bad Dockerfile, a missing target or too many layers.
   * @throws BuildStepError when a RUN's command fails.
   * @throws NotFoundError for a missing base image or COPY source.
   */
  async build(dockerfile: Dockerfile, opts: BuildOptions): Promise<BuildResult> {
    HashPipe.warm(); // RUN and COPY layers are hashed on a worker
    parseNetwork(opts.network); // a network strata lacks fails before any step runs
    const expander = createShellWordExpander(dockerfile.directives.escape);
    const buildArgs = { ...(opts.buildArgs ?? {}) };
    const tags = (opts.tags ?? []).map((t) => parseTagTarget(t));
    let last = dockerfile.stages.length - 1;
    if (opts.target !== undefined) {
      last = dockerfile.stages.findIndex((s) => s.name === opts.target!.toLowerCase());
      if (last < 0) {
        throw new InvalidArgumentError(`failed to reach build target ${opts.target} in Dockerfile`);
      }
    }
    if (last < 0) throw new InvalidArgumentError("the Dockerfile has no FROM instruction");
    const stages = dockerfile.stages.slice(0, last + 1);
    const labels = Object.entries(opts.labels ?? {});
    const run: BuildRun = {
      opts,
      expander,
      buildArgs,
      usedArgs: new Set(),
      context: new SourceTree(opts.contextDir, opts.ignore),
      stages: new Map(),
      stageList: [],
      step: 0,
      total: stages.reduce((n, s) => n + 1 + s.instructions.length, 0) + (labels.length ? 1 : 0),
    };
    const metaArgs = new Map<string, string>();
    for (const a of dockerfile.metaArgs) {
      for (const arg of a.args) {
        run.usedArgs.add(arg.name);
        const v =
          buildArgs[arg.name] ??
          (arg.defaultValue !== undefined
            ? expander.processWord(arg.defaultValue, metaArgs)
            : undefined);
        if (v !== undefined) metaArgs.set(arg.name, v);
      }
    }
    await this.checkLayerLimit(stages, metaArgs, expander);

    let state: StageState | undefined;
    for (const stage of stages) {
      state = await this.buildStage(run, stage, metaArgs);
      run.stageList.push(state);
      if (stage.name) run.stages.set(stage.name, state);
    }
    if (labels.length > 0 && state) {
      const pairs = labels.map(([key, value]) => ({
        key: JSON.stringify(key),
        value: JSON.stringify(value),
      }));
      const original = `LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`;
      await this.step(run, state, {
        keyword: "LABEL",
        pairs,
        original,
        flags: [],
        line: 0,
        endLine: 0,
      });
    }
    if (!state?.imageId) {
      throw new InvalidArgumentError("No image was generated. Is your Dockerfile empty?");
    }
    const imageId = state.imageId;
    for (const k of Object.keys(buildArgs)) if (PREDEFINED_ARGS.has(k)) run.usedArgs.add(k);
    const unusedArgs = Object.keys(buildArgs)
      .filter((k) => !run.usedArgs.has(k))
      .sort();
    if (unusedArgs.length > 0) {
      opts.out.write(
        `[Warning] One or more build-args [${unusedArgs.join(" ")}] were not consumed\n`,
      );
    }
    opts.out.write(`Successfully built ${short(imageId)}\n`);
    const tagged: string[] = [];
    for (const t of tags) {
      await this.images.tag(imageId, familiarString(withDefaultTag(t)));
      const name = familiarString(withDefaultTag(t));
      tagged.push(name);
      opts.out.write(`Successfully tagged ${name}\n`);
    }
    return { imageId, tags: tagged, unusedArgs };
  }

  /** Refuse, before any step runs, a stage that would make more than 127 layers. */
  private async checkLayerLimit(
    stages: readonly BuildStage[],
    metaArgs: ReadonlyMap<string, string>,
    expander: ShellWordExpander,
  ): Promise<void> {
    const counts = new Map<string, number>();
    for (const stage of stages) {
      const from = expander.processWord(stage.from.image, metaArgs);
      let base = 0;
      if (counts.has(from.toLowerCase())) base = counts.get(from.toLowerCase())!;
      else if (from.toLowerCase() !== "scratch") {
        base = (await this.images.resolve(from).catch(() => undefined))?.layers.length ?? 0;
      }
      const own = stage.instructions.filter(instructionCreatesLayer).length;
      const total = base + own;
      if (total > MAX_IMAGE_LAYERS) {
        const line =
          stage.instructions.filter(instructionCreatesLayer)[MAX_IMAGE_LAYERS - base]?.line;
        throw new InvalidArgumentError(
          `the Dockerfile would make an image of ${total} layers (${base} from its base, ${own} from its RUN, COPY and ADD instructions), more than the maximum of ${MAX_IMAGE_LAYERS}${line ? `; the ${MAX_IMAGE_LAYERS + 1}th layer is made at line ${line}` : ""}`,
        );
      }
      if (stage.name) counts.set(stage.name, total);
    }
  }

  private async buildStage(
    run: BuildRun,
    stage: BuildStage,
    metaArgs: ReadonlyMap<string, string>,
  ): Promise<StageState> {
    const { out } = run.opts;
    out.write(`Step ${++run.step}/${run.total} : ${stage.from.original}\n`);
    const from = run.expander.processWord(stage.from.image, metaArgs);
    const base = await this.resolveBase(run, from);
    const state: StageState = base
      ? {
          imageId: base.id,
          config: structuredClone(base.config),
          layers: [...base.layers],
          args: new Map(),
          metaArgs,
        }
      : { imageId: undefined, config: scratchConfig(), layers: [], args: new Map(), metaArgs };
    const triggers = runConfig(state).OnBuild ?? [];
    if (triggers.length > 0) {
      runConfig(state).OnBuild = [];
      out.write(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? "s" : ""}\n`);
      const parsed = parseDockerfile(`FROM scratch\n${triggers.join("\n")}\n`);
      for (const t of parsed.stages[0]?.instructions ?? []) await this.dispatch(run, state, t);
    }
    // As moby: one line per step, a trigger's output inside FROM's; empty for scratch.
    out.write(` ---> ${short(state.imageId ?? "")}\n`);
    for (const instr of stage.instructions) await this.step(run, state, instr);
    return state;
  }

  /** The image a FROM names: none for scratch, an earlier stage's, or one in the store (pulled when missing). */
  private async resolveBase(run: BuildRun, from: string): Promise<ImageRecord | undefined> {
    if (from.toLowerCase() === "scratch") return undefined;
    const stage = run.stages.get(from.toLowerCase());
    if (stage) return stage.imageId ? this.images.resolve(stage.imageId) : undefined;
    try {
      return await this.images.resolve(from);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      let ref: ReturnType<typeof parseReference>;
      try {
        ref = parseReference(from);
      } catch {
        throw err;
      }
      const { out } = run.opts;
      const res = await this.puller.pull(ref, {
        onProgress: (e) => {
          if (!e.id) out.write(`${e.status}\n`);
        },
        ...(run.opts.signal ? { signal: run.opts.signal } : {}),
      });
      out.write(`Status: Downloaded newer image for ${familiarString(withDefaultTag(ref))}\n`);
      return res.image;
    }
  }

  private async step(run: BuildRun, state: StageState, instr: Instruction): Promise<void> {
    const { out } = run.opts;
    out.write(`Step ${++run.step}/${run.total} : ${instr.original}\n`);
    await this.dispatch(run, state, instr);
    out.write(` ---> ${short(state.imageId ?? "")}\n`);
  }

  private async dispatch(run: BuildRun, state: StageState, instr: Instruction): Promise<void> {
    run.opts.signal?.throwIfAborted();
    switch (instr.keyword) {
      case "FROM":
        throw new InvalidArgumentError(`line ${instr.line}: FROM is not allowed here`);
      case "RUN":
        return this.runStep(run, state, instr);
      case "COPY":
      case "ADD":
        return this.copyStep(run, state, instr);
      default: {
        if (instr.keyword === "ARG") for (const a of instr.args) run.usedArgs.add(a.name);
        const next = { ...state, config: structuredClone(state.config) };
        const comment = applyMetadata(instr, next, run.expander, run.buildArgs);
        state.args = next.args;
        state.cmdSetInStage = next.cmdSetInStage ?? false;
        const shell = shellOf(state);
        const cmd = [...shell, "#(nop) ", comment];
        if (await this.fromCache(run, state, `nop:${comment}`)) return;
        const prevLayers = state.layers;
        state.config = next.config;
        let layer: StepLayer | undefined;
        if (instr.keyword === "WORKDIR") {
          const dir = runConfig(state).WorkingDir ?? "/";
          layer = await this.workspace.change(prevLayers, async (rootfs) =>
            makeWorkdir(rootfs, dir),
          );
        }
        await this.commit(state, {
          cmd,
          createdBy: cmd.join(" "),
          key: `nop:${comment}`,
          layer,
        });
      }
    }
  }

  /** Take the step's image from the cache when there is one; says whether it did. */
  private async fromCache(run: BuildRun, state: StageState, key: string): Promise<boolean> {
    if (run.opts.noCache) return false;
    const hit = this.cache.lookup(state.imageId ?? "", key);
    if (!hit) return false;
    const img = await this.images.resolve(hit).catch(() => undefined);
    if (!img) return false;
    run.opts.out.write(" ---> Using cache\n");
    state.imageId = img.id;
    state.config = structuredClone(img.config);
    state.layers = [...img.layers];
    return true;
  }

  private async runStep(run: BuildRun, state: StageState, instr: RunInstruction): Promise<void> {
    const { argv, env, saveCmd, key } = runCommand(instr, state, run.buildArgs);
    const createdBy = saveCmd.join(" ");
    if (await this.fromCache(run, state, key)) return;
    if (!state.imageId) {
      throw new FailedPreconditionError(
        `The command '${argv.join(" ")}' cannot run: the image is empty (FROM scratch); ${argv[0]}: no such file or directory`,
      );
    }
    const { out } = run.opts;
    let created: ContainerRecord | undefined;
    const res = await this.workspace.run({
      imageId: state.imageId,
      argv,
      env,
      ...(run.opts.network !== undefined ? { network: run.opts.network } : {}),
      out,
      onCreated: (rec) => {
        created = rec;
        out.write(` ---> Running in ${short(rec.id)}\n`);
      },
    });
    if (res.code !== 0) {
      throw new BuildStepError(
        `The command '${argv.join(" ")}' returned a non-zero code: ${res.code}`,
        res.code,
      );
    }
    if (created) out.write(`Removing intermediate container ${short(created.id)}\n`);
    await this.commit(state, {
      cmd: saveCmd,
      createdBy,
      key,
      layer: res.layer,
      containerId: res.containerId,
    });
  }

  private async copyStep(run: BuildRun, state: StageState, instr: CopyInstruction): Promise<void> {
    const env = stepEnv(state, run.buildArgs);
    const fromFlag = instr.flags.find((f) => f.name === "from");
    const workdir = runConfig(state).WorkingDir || "/";
    const go = async (tree: SourceTree, fromId: string): Promise<void> => {
      const plan = await CopyPlan.plan(instr, tree, env, run.expander, workdir);
      try {
        const shell = shellOf(state);
        const cmd = [...shell, `#(nop) ${plan.comment}`];
        const key = `copy:${plan.comment}:${plan.keyExtra}:${fromId}`;
        if (await this.fromCache(run, state, key)) return;
        const layer = await this.workspace.change(state.layers, (rootfs) => plan.apply(rootfs));
        await this.commit(state, { cmd, createdBy: cmd.join(" "), key, layer });
      } finally {
        plan.dispose();
      }
    };
    if (!fromFlag) return go(run.context, "");
    const from = run.expander.processWord(fromFlag.value ?? "", env);
    const src = await this.sourceImage(run, from);
    if (!src) return this.workspace.view([], (rootfs) => go(new SourceTree(rootfs), "scratch"));
    return this.workspace.view(src.layers, (rootfs) => go(new SourceTree(rootfs), src.id));
  }

  /** What `COPY --from=X` names: a stage (by name or index) or an image. */
  private async sourceImage(run: BuildRun, from: string): Promise<ImageRecord | undefined> {
    const byName = run.stages.get(from.toLowerCase());
    const byIndex = /^\d+$/.test(from) ? run.stageList[Number(from)] : undefined;
    const stage = byName ?? byIndex;
    if (stage) return stage.imageId ? this.images.resolve(stage.imageId) : undefined;
    if (/^\d+$/.test(from))
      throw new InvalidArgumentError(
        `invalid from flag value ${from}: refers to current build stage`,
      );
    return this.resolveBase(run, from);
  }

  /** Record the step's image (its config, history entry and layer) and the cache entry. */
  private async commit(state: StageState, step: StepRecord): Promise<void> {
    const parent = state.imageId;
    const config = stepImageConfig(state, step);
    const layers = step.layer ? [...state.layers, step.layer] : [...state.layers];
    const img = await this.images.addImage({
      config: Buffer.from(JSON.stringify(config)),
      layers: layers.map((l) => ({ diffId: l.diffId, blob: l.blob, size: l.size })),
      ...(parent ? { parent } : {}),
    });
    this.cache.record(parent ?? "", step.key, img.id);
    state.imageId = img.id;
    state.config = structuredClone(img.config);
    state.layers = [...img.layers];
  }
}

function short(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}
