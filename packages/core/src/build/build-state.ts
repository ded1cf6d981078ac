import type {
  ArgInstruction,
  CommandForm,
  HealthcheckInstruction,
  Instruction,
  ShellWordExpander,
} from "../dockerfile/dockerfile-types.js";
import { parseGoDuration } from "../dockerfile/go-duration.js";
import { InvalidArgumentError } from "../errors.js";
import type { ContainerConfig, ImageConfig, LayerRecord } from "../image/image-types.js";

/** ARGs docker knows without a declaration; they never reach history or the cache key. */
export const PREDEFINED_ARGS: ReadonlySet<string> = new Set([
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
]);

/**
 * Where a stage's build stands: the image made by the last step (none yet for `FROM
 * scratch`), its config and layers, and the ARGs declared so far.
 * @experimental
 */
export interface StageState {
  /** Image of the last step; undefined before the first step of a scratch stage. */
  imageId: string | undefined;
  config: ImageConfig;
  layers: LayerRecord[];
  /** ARGs declared in this stage, with their values (build arg, else default). */
  args: Map<string, string | undefined>;
  /** ARGs declared before the first FROM, with values: `ARG NAME` in a stage takes one. */
  metaArgs?: ReadonlyMap<string, string>;
  /** A CMD was written in this stage (ENTRYPOINT then keeps it, as docker's `cmdSet`). */
  cmdSetInStage?: boolean;
}

/** The run config of a state (never null). */
export function runConfig(state: StageState): ContainerConfig {
  state.config.config ??= {};
  return state.config.config;
}

/** The variables expansion sees at a step: declared ARGs with a value, then ENV over them. */
export function stepEnv(state: StageState, buildArgs: Record<string, string>): Map<string, string> {
  const env = new Map<string, string>();
  for (const [k, v] of state.args) if (v !== undefined) env.set(k, v);
  for (const k of PREDEFINED_ARGS) if (buildArgs[k] !== undefined) env.set(k, buildArgs[k]!);
  for (const e of runConfig(state).Env ?? []) {
    const eq = e.indexOf("=");
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? "" : e.slice(eq + 1));
  }
  return env;
}

/** The shell a shell-form instruction runs in: SHELL's, else `/bin/sh -c`. */
export function shellOf(state: StageState): string[] {
  return runConfig(state).Shell ?? ["/bin/sh", "-c"];
}

/** argv of an exec or shell form. */
export function commandArgv(form: CommandForm, shell: readonly string[]): string[] {
  return form.kind === "exec" ? [...form.argv] : [...shell, form.command];
}

/** Go's `%q` of a string slice, as docker's history prints CMD and ENTRYPOINT. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/**
 * Apply a metadata-only instruction (one that writes no layer) to `state`'s config and
 * return the comment docker's classic builder records for it (`ENV A=b`, `CMD ["sh"]`).
 * ARG updates `state.args` with the build arg's value or the default.
 * @throws InvalidArgumentError for bad arguments (a relative WORKDIR is resolved instead).
 */
export function applyMetadata(
  instr: Instruction,
  state: StageState,
  expander: ShellWordExpander,
  buildArgs: Record<string, string>,
): string {
  const cfg = runConfig(state);
  const env = stepEnv(state, buildArgs);
  const word = (s: string) => expander.processWord(s, env);
  switch (instr.keyword) {
    case "ENV":
    case "LABEL": {
      const parts: string[] = [];
      for (const p of instr.pairs) {
        const k = word(p.key);
        const v = word(p.value);
        if (k === "") throw new InvalidArgumentError(`${instr.keyword} names can not be blank`);
        parts.push(`${k}=${v}`);
        if (instr.keyword === "ENV") {
          const list = [...(cfg.Env ?? [])];
          const i = list.findIndex((e) => e.split("=")[0] === k);
          if (i >= 0) list[i] = `${k}=${v}`;
          else list.push(`${k}=${v}`);
          cfg.Env = list;
          env.set(k, v);
        } else {
          cfg.Labels = { ...(cfg.Labels ?? {}), [k]: v };
        }
      }
      return `${instr.keyword} ${parts.join(" ")}`;
    }
    case "CMD": {
      cfg.Cmd = commandArgv(instr.command, shellOf(state));
      state.cmdSetInStage = true;
      if (instr.command.kind === "shell") cfg.ArgsEscaped = true;
      return `CMD ${goQuoteList(cfg.Cmd)}`;
    }
    case "ENTRYPOINT": {
      cfg.Entrypoint = commandArgv(instr.command, shellOf(state));
      // docker: ENTRYPOINT resets a CMD inherited from the base image
      if (!state.cmdSetInStage) cfg.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(cfg.Entrypoint)}`;
    }
    case "EXPOSE": {
      const ports = instr.values.flatMap((v) => expander.processWords(v, env));
      const exposed = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) {
          throw new InvalidArgumentError(`invalid containerPort: ${p}`);
        }
        const [range, proto = "tcp"] = p.split("/");
        const [lo, hi = lo] = range!.split("-").map(Number) as [number, number?];
        for (let n = lo; n <= hi!; n++) exposed[`${n}/${proto.toLowerCase()}`] = {};
      }
      cfg.ExposedPorts = exposed;
      return `EXPOSE ${ports.join(" ")}`;
    }
    case "VOLUME": {
      const vols = instr.values.flatMap((v) => expander.processWords(v, env));
      if (vols.some((v) => v.trim() === "")) {
        throw new InvalidArgumentError("VOLUME specified can not be an empty string");
      }
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of vols) cfg.Volumes[v] = {};
      return `VOLUME [${vols.join(" ")}]`;
    }
    case "USER":
      cfg.User = word(instr.value);
      return `USER ${cfg.User}`;
    case "WORKDIR": {
      const dir = word(instr.value);
      cfg.WorkingDir = dir.startsWith("/")
        ? normalizeDir(dir)
        : normalizeDir(`${cfg.WorkingDir || "/"}/${dir}`);
      return `WORKDIR ${cfg.WorkingDir}`;
    }
    case "STOPSIGNAL":
      cfg.StopSignal = word(instr.value);
      if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(cfg.StopSignal)) {
        throw new InvalidArgumentError(`Invalid signal: ${cfg.StopSignal}`);
      }
      return `STOPSIGNAL ${cfg.StopSignal}`;
    case "MAINTAINER":
      state.config.author = word(instr.value);
      return `MAINTAINER ${state.config.author}`;
    case "SHELL":
      cfg.Shell = [...instr.argv];
      return `SHELL [${instr.argv.join(" ")}]`;
    case "ONBUILD": {
      const trigger = instr.trigger.trim();
      const kw = /^\S+/.exec(trigger)?.[0]?.toUpperCase() ?? "";
      if (kw === "ONBUILD")
        throw new InvalidArgumentError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (kw === "FROM" || kw === "MAINTAINER") {
        throw new InvalidArgumentError(`${kw} isn't allowed as an ONBUILD trigger`);
      }
      cfg.OnBuild = [...(cfg.OnBuild ?? []), trigger];
      return `ONBUILD ${trigger}`;
    }
    case "HEALTHCHECK":
      return healthcheck(instr, state, word);
    case "ARG":
      return declareArgs(instr, state, env, expander, buildArgs);
    default:
      throw new InvalidArgumentError(`${instr.keyword} is not a metadata instruction`);
  }
}

function declareArgs(
  instr: ArgInstruction,
  state: StageState,
  env: Map<string, string>,
  expander: ShellWordExpander,
  buildArgs: Record<string, string>,
): string {
  const parts: string[] = [];
  for (const a of instr.args) {
    const dflt =
      a.defaultValue === undefined ? undefined : expander.processWord(a.defaultValue, env);
    const value = buildArgs[a.name] ?? dflt ?? state.metaArgs?.get(a.name);
    state.args.set(a.name, value);
    if (value !== undefined) env.set(a.name, value);
    parts.push(dflt === undefined ? a.name : `${a.name}=${dflt}`);
  }
  return `ARG ${parts.join(" ")}`;
}

function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = (ns % 60e9) / 1e9;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

function healthcheck(
  instr: HealthcheckInstruction,
  state: StageState,
  word: (s: string) => string,
): string {
  const cfg = runConfig(state);
  if (!instr.command) {
    cfg.Healthcheck = { Test: ["NONE"] };
    return `HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" '\\x00'}`;
  }
  const test =
    instr.command.kind === "exec"
      ? ["CMD", ...instr.command.argv]
      : ["CMD-SHELL", instr.command.command];
  const hc: Record<string, unknown> = { Test: test };
  const durations: Record<string, number> = {};
  const names: Record<string, string> = {
    interval: "Interval",
    timeout: "Timeout",
    "start-period": "StartPeriod",
    "start-interval": "StartInterval",
  };
  for (const f of instr.flags) {
    const v = word(f.value ?? "");
    if (f.name === "retries") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new InvalidArgumentError(`--retries cannot be negative (${v})`);
      if (n > 0) hc.Retries = n;
    } else if (names[f.name]) {
      const ns = parseGoDuration(v);
      if (ns < 0) throw new InvalidArgumentError(`Interval "${f.name}" cannot be negative`);
      durations[f.name] = ns;
      if (ns > 0) hc[names[f.name]!] = ns;
    } else {
      throw new InvalidArgumentError(`Unknown flag: ${f.name}`);
    }
  }
  cfg.Healthcheck = hc;
  const d = (k: string) => JSON.stringify(goDuration(durations[k] ?? 0));
  return `HEALTHCHECK &{${goQuoteList(test)} ${d("interval")} ${d("timeout")} ${d("start-period")} ${d("start-interval")} '\\x${Number(
    hc.Retries ?? 0,
  )
    .toString(16)
    .padStart(2, "0")}'}`;
}

function normalizeDir(p: string): string {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return `/${parts.join("/")}`;
}
