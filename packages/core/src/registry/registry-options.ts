import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { DEFAULT_DOMAIN } from "../image/reference.js";

/**
 * How strata talks to registries: where its client configuration lives, which registries
 * are plain HTTP (or HTTPS without certificate checks), and the mirrors used for docker.io.
 * The CLI builds it from its global flags (`--config`, `--insecure-registry`,
 * `--registry-mirror`) merged with `<configDir>/registries.json` ({@link loadRegistryOptions}).
 */
export interface RegistryOptions {
  /** Client configuration directory (docker's `~/.docker`): holds `auth.json`. */
  configDir: string;
  /**
   * Registries (`host[:port]`, or a CIDR such as `10.0.0.0/8`) that may be reached over
   * plain HTTP or HTTPS with unverified certificates. Loopback (`localhost`, `127.0.0.0/8`,
   * `::1`) is always insecure, as in docker.
   */
  insecureRegistries?: string[];
  /** Mirrors of docker.io (`http://host:port` or `https://…`), tried in order before it. */
  mirrors?: string[];
  /**
   * docker's own client configuration, read (never written) when `auth.json` has no entry
   * for a registry. Default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
   */
  dockerConfigFile?: string;
  /** `User-Agent` sent with every request. */
  userAgent?: string;
}

/** The name of the registry settings file inside the config directory. */
export const REGISTRIES_FILE = "registries.json";

/**
 * The registry options: `base` merged with `<configDir>/registries.json`, which uses the
 * keys of docker's `daemon.json`:
 *
 * ```json
 * { "insecure-registries": ["registry.lan:5000"], "registry-mirrors": ["http://127.0.0.1:5000"] }
 * ```
 *
 * @throws InvalidArgumentError when the file exists but is not valid JSON of that shape.
 */
export function loadRegistryOptions(base: RegistryOptions): RegistryOptions {
  const file = path.join(base.configDir, REGISTRIES_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return base;
  }
  let parsed: { "insecure-registries"?: unknown; "registry-mirrors"?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (err) {
    throw new InvalidArgumentError(`registry settings "${file}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  const list = (v: unknown, key: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      throw new InvalidArgumentError(
        `registry settings "${file}": ${key} must be a list of strings`,
      );
    }
    return v as string[];
  };
  return {
    ...base,
    insecureRegistries: [
      ...(base.insecureRegistries ?? []),
      ...list(parsed["insecure-registries"], "insecure-registries"),
    ],
    mirrors: [...(base.mirrors ?? []), ...list(parsed["registry-mirrors"], "registry-mirrors")],
  };
}

/** The default client configuration directory: `$STRATA_CONFIG`, else `~/.strata`. */
export function defaultConfigDir(env: Record<string, string | undefined> = process.env): string {
  return env.STRATA_CONFIG || path.join(os.homedir(), ".strata");
}

/** docker's client configuration file: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
export function dockerConfigFile(env: Record<string, string | undefined> = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), ".docker"), "config.json");
}

/** The hostname part of `host[:port]` (brackets of an IPv6 literal removed). */
export function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

/**
 * Whether `host` (`host[:port]`) may be used over plain HTTP: loopback always (as docker),
 * else when it or its hostname is listed, or its IPv4 address falls in a listed CIDR.
 */
export function isInsecureRegistry(host: string, insecure: readonly string[] = []): boolean {
  const name = hostnameOf(host);
  if (name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
  for (const entry of insecure) {
    const e = entry.replace(/^https?:\/\//, "").replace(/\/+$/, "");
    if (e === host || e === name) return true;
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(e);
    if (cidr && inCidr(name, cidr[1]!, Number(cidr[2]))) return true;
  }
  return false;
}

function ipv4(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inCidr(ip: string, base: string, bits: number): boolean {
  const a = ipv4(ip);
  const b = ipv4(base);
  if (a === undefined || b === undefined || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

/**
 * The host requests for `domain` go to: docker.io's API lives on `registry-1.docker.io`
 * (docker's `DefaultV2Registry`); every other domain is its own host.
 */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? "registry-1.docker.io" : domain;
}
