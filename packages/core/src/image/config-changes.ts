import { InvalidArgumentError } from "../errors.js";
import type { ContainerConfig } from "./image-types.js";

/** Instructions `import --change` and `commit --change` accept, as docker's. */
const ALLOWED = new Set([
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "HEALTHCHECK",
  "LABEL",
  "ONBUILD",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** The empty container config docker writes for an image with no settings. */
export function emptyContainerConfig(): ContainerConfig {
  return {
    Hostname: "",
    Domainname: "",
    User: "",
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: "",
    Volumes: null,
    WorkingDir: "",
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
  };
}

/** Parse `["a", "b"]` JSON (exec form), or undefined when `s` is not a JSON string array. */
function execForm(s: string): string[] | undefined {
  if (!s.trimStart().startsWith("[")) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {
    // not JSON: docker treats it as shell form
  }
  return undefined;
}

/** Split `k=v k2="v 2"` (or the legacy `k v`) into pairs, as ENV and LABEL read them. */
function keyValues(args: string, instr: string): [string, string][] {
  const words = splitWords(args);
  if (words.length === 0) throw new InvalidArgumentError(`${instr} requires at least one argument`);
  if (!words[0]!.includes("=")) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(args.trim());
    if (!m) throw new InvalidArgumentError(`${instr} must have two arguments`);
    return [[m[1]!, m[2]!]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`${instr}: "${w}" is not of the form key=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Split on whitespace, honouring double and single quotes and backslash escapes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new InvalidArgumentError(`unterminated quote in "${s}"`);
  if (inWord) out.push(cur);
  return out;
}

/**
 * Apply Dockerfile instructions (`CMD ["/bin/sh"]`, `ENV A=b`, `WORKDIR /x`, …) to a
 * container config, as `docker import --change` and `docker commit --change` do.
 * @throws InvalidArgumentError for an instruction docker does not allow there or bad args.
 */
export function applyConfigChanges(
  base: ContainerConfig,
  changes: readonly string[],
): ContainerConfig {
  const cfg: ContainerConfig = structuredClone(base);
  for (const change of changes) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(change);
    if (!m) continue;
    const instr = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (!ALLOWED.has(instr))
      throw new InvalidArgumentError(`${m[1]} is not a valid change command`);
    const shell = cfg.Shell ?? ["/bin/sh", "-c"];
    switch (instr) {
      case "CMD":
        cfg.Cmd = execForm(args) ?? [...shell, args];
        break;
      case "ENTRYPOINT":
        cfg.Entrypoint = args === "" ? null : (execForm(args) ?? [...shell, args]);
        break;
      case "ENV": {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of keyValues(args, "ENV")) {
          const i = env.findIndex((e) => e.split("=")[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case "LABEL": {
        const labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of keyValues(args, "LABEL")) labels[k] = v;
        cfg.Labels = labels;
        break;
      }
      case "EXPOSE": {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of splitWords(args)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p))
            throw new InvalidArgumentError(`EXPOSE: invalid port "${p}"`);
          ports[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        cfg.ExposedPorts = ports;
        break;
      }
      case "VOLUME": {
        const vols = { ...(cfg.Volumes ?? {}) };
        for (const v of execForm(args) ?? splitWords(args)) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case "USER":
        cfg.User = args;
        break;
      case "WORKDIR":
        cfg.WorkingDir = args.startsWith("/")
          ? args
          : `${(cfg.WorkingDir || "/").replace(/\/$/, "")}/${args}`;
        break;
      case "STOPSIGNAL":
        cfg.StopSignal = args;
        break;
      case "ONBUILD":
        cfg.OnBuild = [...(cfg.OnBuild ?? []), args];
        break;
      case "HEALTHCHECK":
        if (/^NONE$/i.test(args)) cfg.Healthcheck = { Test: ["NONE"] };
        else {
          const cm = /^CMD\s+([\s\S]+)$/i.exec(args);
          if (!cm) throw new InvalidArgumentError(`HEALTHCHECK: expected "CMD ..." or "NONE"`);
          const exec = execForm(cm[1]!);
          cfg.Healthcheck = { Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", cm[1]!] };
        }
        break;
    }
  }
  return cfg;
}
