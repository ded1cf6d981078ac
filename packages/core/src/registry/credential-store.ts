import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { DEFAULT_DOMAIN } from "../image/reference.js";

/** A user's credentials for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** docker's key for Docker Hub in `auths` (its `IndexServer`). */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/** The name of strata's credentials file inside the config directory. */
export const AUTH_FILE = "auth.json";

interface AuthConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  [other: string]: unknown;
}

/**
 * Registry credentials in docker's config format (`{"auths": {"host": {"auth": base64(user:pass)}}}`)
 * in `<configDir>/auth.json`, written with mode 0600 through a temporary file and a rename.
 * docker's own `~/.docker/config.json` is read as a fallback, never written. Entries are
 * keyed by registry host (`127.0.0.1:5000`); Docker Hub's key is docker's
 * `https://index.docker.io/v1/`. A lookup matches the host exactly (a stored
 * `https://host/` URL counts as that host), so credentials are only ever used for their host.
 */
export class CredentialStore {
  /** Path of the credentials file. */
  readonly file: string;

  constructor(
    configDir: string,
    private readonly fallbackFile?: string,
  ) {
    this.file = path.join(configDir, AUTH_FILE);
  }

  /** The `auths` key for a registry domain (`docker.io` → Docker Hub's index URL). */
  static keyFor(domain: string): string {
    return domain === DEFAULT_DOMAIN || domain === "index.docker.io" ? DOCKER_HUB_AUTH_KEY : domain;
  }

  /** Credentials stored for `domain`, from `auth.json`, else from docker's config. */
  get(domain: string): Credentials | undefined {
    const key = CredentialStore.keyFor(domain);
    for (const file of [this.file, this.fallbackFile]) {
      if (!file) continue;
      const auths = readConfig(file)?.auths ?? {};
      for (const [k, v] of Object.entries(auths)) {
        if (normalizeKey(k) !== key) continue;
        const creds = decode(v);
        if (creds) return creds;
      }
    }
    return undefined;
  }

  /** Store credentials for `domain` (mode 0600). */
  set(domain: string, creds: Credentials): void {
    const config = readConfig(this.file) ?? {};
    const auths = { ...(config.auths ?? {}) };
    const key = CredentialStore.keyFor(domain);
    for (const k of Object.keys(auths)) if (normalizeKey(k) === key) delete auths[k];
    auths[key] = {
      auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64"),
    };
    this.write({ ...config, auths });
  }

  /**
   * Forget the credentials for `domain`.
   * @returns whether `auth.json` had any.
   */
  remove(domain: string): boolean {
    const config = readConfig(this.file);
    if (!config?.auths) return false;
    const key = CredentialStore.keyFor(domain);
    const auths = { ...config.auths };
    let found = false;
    for (const k of Object.keys(auths)) {
      if (normalizeKey(k) === key) {
        delete auths[k];
        found = true;
      }
    }
    if (found) this.write({ ...config, auths });
    return found;
  }

  private write(config: AuthConfigFile): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, this.file);
  }
}

function readConfig(file: string): AuthConfigFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const config = JSON.parse(text) as unknown;
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      throw new Error("not a JSON object");
    }
    const auths = (config as AuthConfigFile).auths;
    if (auths !== undefined && (typeof auths !== "object" || Array.isArray(auths))) {
      throw new Error('"auths" is not an object');
    }
    return config as AuthConfigFile;
  } catch (err) {
    throw new InvalidArgumentError(`credentials file "${file}": ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `https://host:5000/v2/` → `host:5000`; Docker Hub's aliases → its index key. */
function normalizeKey(key: string): string {
  if (key === DOCKER_HUB_AUTH_KEY) return key;
  const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (["index.docker.io", "docker.io", "registry-1.docker.io"].includes(host)) {
    return DOCKER_HUB_AUTH_KEY;
  }
  return host;
}

function decode(entry: {
  auth?: string;
  username?: string;
  password?: string;
}): Credentials | undefined {
  // A hand-edited file may hold anything: an entry of the wrong shape holds no credentials.
  if (typeof entry !== "object" || entry === null) return undefined;
  if (typeof entry.username === "string" && entry.username && typeof entry.password === "string") {
    return { username: entry.username, password: entry.password };
  }
  if (typeof entry.auth !== "string" || !entry.auth) return undefined;
  const text = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
