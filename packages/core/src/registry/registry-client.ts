import { inject, injectable } from "tsyringe";
import { FailedPreconditionError } from "../errors.js";
import { DEFAULT_DOMAIN, type Reference } from "../image/reference.js";
import { Tokens } from "../tokens.js";
import { CredentialStore, type Credentials } from "./credential-store.js";
import { registryError } from "./error-response.js";
import {
  apiHost,
  dockerConfigFile,
  hostnameOf,
  isInsecureRegistry,
  type RegistryOptions,
} from "./registry-options.js";
import { HttpAgents, RegistryTransport, type TransportEndpoint } from "./registry-transport.js";
import { RemoteRepository } from "./remote-repository.js";

/**
 * The way into registries: one {@link RegistryTransport} per registry (auth state and
 * tokens shared by every request of a command), mirrors for docker.io, credentials from
 * the {@link CredentialStore}, and the registry-level calls (`login`'s check, `_catalog`).
 * Call {@link RegistryClient.close} when done, to release pooled connections.
 */
@injectable()
export class RegistryClient {
  /** Where credentials are stored (`<configDir>/auth.json`). */
  readonly credentials: CredentialStore;
  private readonly agents = new HttpAgents();
  private readonly transports = new Map<string, RegistryTransport>();

  constructor(@inject(Tokens.RegistryOptions) readonly options: RegistryOptions) {
    this.credentials = new CredentialStore(
      options.configDir,
      options.dockerConfigFile ?? dockerConfigFile(),
    );
  }

  /** Whether `domain` may be spoken to over plain HTTP. */
  isInsecure(domain: string): boolean {
    return isInsecureRegistry(domain, this.options.insecureRegistries);
  }

  /** The transport for the registry `domain` itself (pushes, tags, catalog). */
  transport(domain: string): RegistryTransport {
    const host = apiHost(domain);
    return this.cached(`registry ${domain}`, {
      domain,
      host,
      insecure: this.isInsecure(domain) || this.isInsecure(host),
    });
  }

  /**
   * Transports to pull from, in order: for docker.io its mirrors, then docker.io itself;
   * for any other registry, just that registry.
   */
  pullTransports(domain: string): RegistryTransport[] {
    const out: RegistryTransport[] = [];
    if (domain === DEFAULT_DOMAIN) {
      for (const mirror of this.options.mirrors ?? []) {
        const url = new URL(/^https?:\/\//.test(mirror) ? mirror : `https://${mirror}`);
        out.push(
          this.cached(`mirror ${url.href}`, {
            domain: url.host,
            host: url.host,
            baseUrl: url.origin,
            insecure: url.protocol === "http:" || this.isInsecure(url.host),
          }),
        );
      }
    }
    out.push(this.transport(domain));
    return out;
  }

  /** A repository of `ref`'s registry, through `transport` (default: the registry itself). */
  repository(
    ref: Reference,
    actions: "pull" | "pull,push" = "pull",
    transport: RegistryTransport = this.transport(ref.domain),
  ): RemoteRepository {
    return new RemoteRepository(transport, ref.path, actions);
  }

  private cached(key: string, endpoint: TransportEndpoint): RegistryTransport {
    let t = this.transports.get(key);
    if (!t) {
      t = new RegistryTransport(
        endpoint,
        this.agents,
        this.credentials.get(endpoint.domain),
        this.options.userAgent,
      );
      this.transports.set(key, t);
    }
    return t;
  }

  /**
   * Check `creds` against the registry `domain`, as `docker login` does: `GET /v2/`
   * answering its challenge (Basic, or a token fetched with the credentials).
   * @returns the URL that was checked (`http://127.0.0.1:5000/v2/`).
   * @throws FailedPreconditionError `login attempt to … failed with status: 401 Unauthorized`,
   *   or the token server's `unauthorized: …`.
   * @throws UnavailableError when the registry cannot be reached.
   */
  async checkLogin(domain: string, creds: Credentials, signal?: AbortSignal): Promise<string> {
    const host = apiHost(domain);
    const transport = new RegistryTransport(
      { domain, host, insecure: this.isInsecure(domain) || this.isInsecure(host) },
      this.agents,
      creds,
      this.options.userAgent,
    );
    const res = await transport.request({
      method: "GET",
      path: "/v2/",
      ...(signal ? { signal } : {}),
    });
    const text = await res.body.text().catch(() => "");
    const url = res.url.href;
    if (res.status === 200) return url;
    if (res.status === 401) {
      throw new FailedPreconditionError(
        `login attempt to ${url} failed with status: 401 Unauthorized`,
      );
    }
    throw registryError(res.status, text, `login attempt to ${url}`);
  }

  /** Every repository name of the registry (`GET /v2/_catalog`, following pagination). */
  async catalog(domain: string, signal?: AbortSignal): Promise<string[]> {
    const transport = this.transport(domain);
    const out: string[] = [];
    let next: string | undefined = "/v2/_catalog?n=1000";
    while (next) {
      const res = await transport.request({
        method: "GET",
        path: next,
        scopes: ["registry:catalog:*"],
        ...(signal ? { signal } : {}),
      });
      const text = await res.body.text();
      if (res.status !== 200) throw registryError(res.status, text, `Get "${res.url.href}"`);
      const json = JSON.parse(text) as { repositories?: string[] | null };
      out.push(...(json.repositories ?? []));
      const link = res.headers.link;
      const m = typeof link === "string" ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      next = m ? new URL(m[1]!, res.url).href : undefined;
    }
    return out;
  }

  /** Release pooled connections. Idempotent. */
  async close(): Promise<void> {
    await this.agents.close();
  }
}

/**
 * The registry a `login`/`logout` argument names: `docker.io` when omitted; a URL's host
 * (`https://r.example/v2/` → `r.example`); Docker Hub's aliases become `docker.io`.
 */
export function loginDomain(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  const host = server
    .replace(/^https?:\/\//, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  if (["index.docker.io", "registry-1.docker.io", "docker.io"].includes(host))
    return DEFAULT_DOMAIN;
  if (hostnameOf(host) === "") return DEFAULT_DOMAIN;
  return host;
}
