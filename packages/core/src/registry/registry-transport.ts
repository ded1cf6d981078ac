import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Agent, Dispatcher } from "undici";
import { FailedPreconditionError, UnavailableError } from "../errors.js";
import type { Credentials } from "./credential-store.js";
import { registryError } from "./error-response.js";
import { type AuthChallenge, parseWwwAuthenticate } from "./www-authenticate.js";

/** A request to a registry's API. */
export interface RegistryRequest {
  method: Dispatcher.HttpMethod;
  /** `/v2/…` (relative to the registry) or an absolute URL the registry gave (upload `Location`). */
  path: string;
  headers?: Record<string, string>;
  /** A buffer, or a function that makes the body stream (called again when a retry is needed). */
  body?: Buffer | string | (() => Readable);
  /** Token scopes the request needs (`repository:library/busybox:pull`). */
  scopes?: readonly string[];
  signal?: AbortSignal;
}

/** A registry's answer; the caller must consume or dump `body`. */
export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData["body"];
  /** The URL that answered (after redirects). */
  url: URL;
}

/** undici's module, loaded on first use. */
let undiciModule: Promise<typeof import("undici")> | undefined;

/**
 * undici, loaded on the first request rather than with core: it is a large module graph
 * (60–190 ms to load here) that commands without a registry never need.
 */
export function loadUndici(): Promise<typeof import("undici")> {
  undiciModule ??= import("undici");
  return undiciModule;
}

/** undici's `request`, loaded on first use. */
async function request(
  url: string | URL,
  options: { dispatcher?: Dispatcher } & Omit<Dispatcher.RequestOptions<null>, "origin" | "path">,
): Promise<Dispatcher.ResponseData> {
  return (await loadUndici()).request<null>(url, options);
}

/** The HTTP connection pools every transport shares: one verifying TLS, one not. */
export class HttpAgents {
  private verified?: Agent;
  private unverified?: Agent;

  /** The pool for `insecure` (unverified TLS, plain HTTP) or normal hosts. */
  async get(insecure: boolean): Promise<Agent> {
    const { Agent } = await loadUndici();
    const opts = { connect: { timeout: 30_000 }, headersTimeout: 120_000, bodyTimeout: 120_000 };
    if (insecure) {
      this.unverified ??= new Agent({
        ...opts,
        connect: { ...opts.connect, rejectUnauthorized: false },
      });
      return this.unverified;
    }
    this.verified ??= new Agent(opts);
    return this.verified;
  }

  /** Close every pooled connection. Idempotent. */
  async close(): Promise<void> {
    const agents = [this.verified, this.unverified].filter((a): a is Agent => !!a);
    this.verified = undefined;
    this.unverified = undefined;
    await Promise.all(agents.map((a) => a.close().catch(() => a.destroy())));
  }
}

/** Where a transport sends requests. */
export interface TransportEndpoint {
  /** The registry domain the credentials belong to (`127.0.0.1:5000`, `docker.io`). */
  domain: string;
  /** `host[:port]` requests go to (`registry-1.docker.io` for docker.io). */
  host: string;
  /** A fixed base URL (a mirror's `http://…`); else negotiated from `insecure`. */
  baseUrl?: string;
  /** Plain HTTP and unverified TLS are allowed (HTTPS is tried first, as docker does). */
  insecure: boolean;
}

const MAX_REDIRECTS = 5;

/**
 * HTTP to one registry, with the distribution spec's auth flow: a request goes out with
 * what is already known (Basic credentials after a Basic challenge, or a cached Bearer token
 * for its scopes); on `401` the `WWW-Authenticate` challenge is answered (Basic with the
 * stored credentials, or a token fetched from the realm for the union of the challenge's
 * and the request's scopes) and the request is sent once more.
 *
 * Redirects (blob downloads to storage backends) are followed by hand so that an
 * `Authorization` header never goes to another origin. Credentials are only ever those of
 * this transport's own registry.
 */
export class RegistryTransport {
  private base?: URL;
  private challenge?: AuthChallenge;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly endpoint: TransportEndpoint,
    private readonly agents: HttpAgents,
    private readonly credentials: Credentials | undefined,
    private readonly userAgent = "strata",
  ) {}

  /** The base URL (`https://host` or `http://host`), negotiated on first use. */
  async baseUrl(signal?: AbortSignal): Promise<URL> {
    if (this.base) return this.base;
    if (this.endpoint.baseUrl) {
      this.base = new URL(this.endpoint.baseUrl.replace(/\/+$/, ""));
      return this.base;
    }
    const https = new URL(`https://${this.endpoint.host}`);
    if (!this.endpoint.insecure) {
      this.base = https;
      return https;
    }
    // docker tries HTTPS (without verifying) first for an insecure registry, then HTTP.
    try {
      const res = await request(new URL("/v2/", https), {
        method: "GET",
        dispatcher: await this.agents.get(true),
        headers: { "user-agent": this.userAgent },
        signal: signal ?? null,
      });
      await res.body.dump();
      this.base = https;
    } catch (err) {
      signal?.throwIfAborted();
      if (!isRefused(err) || !(await this.plainHttpAnswers(signal))) {
        throw unreachable("GET", new URL("/v2/", https), err);
      }
      this.base = new URL(`http://${this.endpoint.host}`);
    }
    return this.base;
  }

  private async plainHttpAnswers(signal?: AbortSignal): Promise<boolean> {
    try {
      const res = await request(`http://${this.endpoint.host}/v2/`, {
        method: "GET",
        dispatcher: await this.agents.get(true),
        signal: signal ?? null,
      });
      await res.body.dump();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Send `req`, answering an auth challenge and following redirects.
   * @throws UnavailableError when the registry cannot be reached.
   * @throws FailedPreconditionError for `unauthorized` after the challenge was answered.
   */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    let res = await this.send(req, this.authHeader(req.scopes));
    if (res.status !== 401) return res;
    const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
    const body = await res.body.text().catch(() => "");
    const challenge =
      challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    const what = `${goVerb(req.method)} "${res.url.href}"`;
    if (!challenge) throw registryError(401, body, what);
    const sentAuth = this.authHeader(req.scopes);
    this.challenge = challenge;
    if (challenge.scheme === "bearer") {
      await this.fetchToken(challenge, req.scopes ?? [], req.signal);
    } else if (!this.credentials) {
      // docker's words for a Basic-auth registry it has no login for.
      throw new FailedPreconditionError(`${what}: no basic auth credentials`);
    } else if (sentAuth?.startsWith("Basic ")) {
      throw registryError(401, body, what);
    }
    res = await this.send(req, this.authHeader(req.scopes));
    return res;
  }

  /** `Authorization` value for a request with `scopes`, from what earlier challenges taught. */
  private authHeader(scopes: readonly string[] = []): string | undefined {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === "basic") {
      if (!this.credentials) return undefined;
      const { username, password } = this.credentials;
      return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
    const token = this.tokens.get(scopeKey(scopes)) ?? this.tokens.get(scopeKey([]));
    return token ? `Bearer ${token}` : undefined;
  }

  private async fetchToken(
    challenge: AuthChallenge,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const realm = challenge.params.realm;
    if (!realm) throw new FailedPreconditionError("registry: bearer challenge without a realm");
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    const wanted = new Set([
      ...(challenge.params.scope ?? "").split(" ").filter(Boolean),
      ...scopes,
    ]);
    for (const s of [...wanted].sort()) url.searchParams.append("scope", s);
    if (this.credentials) url.searchParams.set("account", this.credentials.username);
    const headers: Record<string, string> = { "user-agent": this.userAgent };
    if (this.credentials) {
      const { username, password } = this.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "GET",
        headers,
        dispatcher: await this.agents.get(this.endpoint.insecure),
        signal: signal ?? null,
      });
    } catch (err) {
      signal?.throwIfAborted();
      throw unreachable("GET", url, err);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw registryError(res.statusCode, text, `GET ${url.origin}${url.pathname}`);
    let token: string | undefined;
    try {
      const json = JSON.parse(text) as { token?: string; access_token?: string };
      token = json.token || json.access_token;
    } catch {
      token = undefined;
    }
    if (!token)
      throw new FailedPreconditionError(`registry: token server ${url.origin} sent no token`);
    this.tokens.set(scopeKey(scopes), token);
    if (scopes.length === 0) return;
    // A token for more scopes serves requests that need fewer (push tokens also pull).
    for (const s of scopes)
      if (!this.tokens.has(scopeKey([s]))) this.tokens.set(scopeKey([s]), token);
  }

  private async send(req: RegistryRequest, auth: string | undefined): Promise<RegistryResponse> {
    let url = /^https?:\/\//.test(req.path)
      ? new URL(req.path)
      : new URL(req.path, await this.baseUrl(req.signal));
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { "user-agent": this.userAgent, ...req.headers };
      // The Authorization header goes only to the registry's own origin, never to a
      // redirect target (a storage backend) elsewhere.
      if (auth && url.origin === origin) headers.authorization = auth;
      const body = typeof req.body === "function" ? req.body() : req.body;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: req.method,
          headers,
          body: body ?? null,
          dispatcher: await this.agents.get(this.endpoint.insecure),
          signal: req.signal ?? null,
        });
      } catch (err) {
        req.signal?.throwIfAborted();
        throw unreachable(req.method, url, err);
      }
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && typeof location === "string") {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) throw new UnavailableError(`${url}: too many redirects`);
        url = new URL(location, url);
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url };
    }
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(" ");
}

/** A connection that was refused or spoke no TLS (so plain HTTP may answer). */
function isRefused(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? "";
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "EPROTO" ||
    code.startsWith("ERR_SSL") ||
    code === "UND_ERR_SOCKET" ||
    /wrong version number|ssl|tls|packet length/i.test(String((err as Error).message))
  );
}

/** docker's wording for a registry it cannot reach: `Get "https://host/v2/": <why>`. */
function unreachable(method: string, url: URL, err: unknown): UnavailableError {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = e.cause?.message || e.message || String(err);
  return new UnavailableError(`${goVerb(method)} "${url.href}": ${why}`, { cause: err });
}

/** An HTTP method as Go's errors name it (`Get`, `Head`, `Put`). */
function goVerb(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}
