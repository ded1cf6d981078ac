import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Descriptor } from "../content/descriptor.js";
import { isDigest, sha256Digest } from "../content/digest.js";
import { InvalidArgumentError, UnavailableError } from "../errors.js";
import { MediaTypes } from "../image/media-types.js";
import { registryError } from "./error-response.js";
import type { RegistryResponse, RegistryTransport } from "./registry-transport.js";

/** Every manifest media type strata reads, in the `Accept` header docker sends. */
export const MANIFEST_ACCEPT = [
  MediaTypes.OciIndex,
  MediaTypes.DockerManifestList,
  MediaTypes.OciManifest,
  MediaTypes.DockerManifest,
].join(", ");

/** A manifest as fetched: its exact bytes, digest and media type. */
export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** Largest manifest or config strata reads into memory (docker's limit is 4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * One repository of a registry (`library/busybox` on `127.0.0.1:5000`): the distribution
 * API's manifest, blob and tag endpoints. Every manifest fetched is checked against the
 * digest asked for (or the one the registry claims in `Docker-Content-Digest`).
 */
export class RemoteRepository {
  constructor(
    readonly transport: RegistryTransport,
    /** Repository path inside the registry. */
    readonly path: string,
    /** Token scopes requests need: `pull`, or `pull,push` for a push. */
    readonly actions: "pull" | "pull,push" = "pull",
  ) {}

  /** The token scope of this repository (`repository:<path>:<actions>`). */
  get scope(): string {
    return `repository:${this.path}:${this.actions}`;
  }

  /** Send a request about this repository with its scope. */
  request(
    method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    extra: {
      headers?: Record<string, string>;
      body?: Buffer | string | (() => Readable);
      scopes?: string[];
      signal?: AbortSignal;
    } = {},
  ): Promise<RegistryResponse> {
    const { scopes, ...rest } = extra;
    return this.transport.request({
      method,
      path: path.startsWith("/") || /^https?:/.test(path) ? path : `/v2/${this.path}/${path}`,
      scopes: [this.scope, ...(scopes ?? [])],
      ...rest,
    });
  }

  /**
   * The digest, media type and size of a manifest, by `HEAD` (no body moves).
   * @returns undefined when the registry does not know the reference.
   */
  async headManifest(
    reference: string,
    signal?: AbortSignal,
  ): Promise<{ digest?: string; mediaType?: string; size?: number } | undefined> {
    const res = await this.request("HEAD", `manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      ...(signal ? { signal } : {}),
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw registryError(res.status, "", `manifest ${reference}`);
    const digest = header(res, "docker-content-digest");
    const mediaType = header(res, "content-type")?.split(";")[0];
    const size = Number(header(res, "content-length"));
    return {
      ...(digest && isDigest(digest) ? { digest } : {}),
      ...(mediaType ? { mediaType } : {}),
      ...(Number.isFinite(size) ? { size } : {}),
    };
  }

  /**
   * Fetch a manifest by tag or digest and verify it: by digest, its bytes must hash to it;
   * by tag, to the `Docker-Content-Digest` the registry sent, if any.
   * @throws NotFoundError (`manifest unknown`) when the registry has no such manifest.
   * @throws InvalidArgumentError when the bytes do not match the digest.
   */
  async getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request("GET", `manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      ...(signal ? { signal } : {}),
    });
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `manifest ${reference}`);
    if (res.status !== 200) throw registryError(res.status, bytes.toString("utf8"));
    const digest = sha256Digest(bytes);
    const claimed = header(res, "docker-content-digest");
    const expected = isDigest(reference) ? reference : claimed;
    if (expected?.startsWith("sha256:") && expected !== digest) {
      throw new InvalidArgumentError(
        `manifest ${reference}: digest mismatch: expected ${expected}, content hashes to ${digest}`,
      );
    }
    let mediaType = header(res, "content-type")?.split(";")[0]?.trim() ?? "";
    try {
      const parsed = JSON.parse(bytes.toString("utf8")) as { mediaType?: string };
      if (parsed.mediaType) mediaType = parsed.mediaType;
      else if (!isManifestType(mediaType)) {
        const p = parsed as { manifests?: unknown };
        mediaType = p.manifests ? MediaTypes.OciIndex : MediaTypes.OciManifest;
      }
    } catch (err) {
      throw new InvalidArgumentError(`manifest ${reference}: not valid JSON`, { cause: err });
    }
    return { bytes, digest, mediaType };
  }

  /** A small blob (a config) read into memory and verified against `desc`. */
  async getBlob(desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.request("GET", `blobs/${desc.digest}`, signal ? { signal } : {});
    const bytes = await readLimited(
      res,
      Math.max(desc.size, MAX_MANIFEST_BYTES),
      `blob ${desc.digest}`,
    );
    if (res.status !== 200)
      throw registryError(res.status, bytes.toString("utf8"), `blob ${desc.digest}`);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (digest !== desc.digest || bytes.length !== desc.size) {
      throw new InvalidArgumentError(
        `blob ${desc.digest}: digest mismatch: content hashes to ${digest} (${bytes.length} bytes, expected ${desc.size})`,
      );
    }
    return bytes;
  }

  /** Whether the registry has the blob in this repository (`HEAD`). */
  async hasBlob(digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request("HEAD", `blobs/${digest}`, signal ? { signal } : {});
    await res.body.dump();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw registryError(res.status, "", `HEAD blob ${digest}`);
  }

  /**
   * Every tag of the repository, following `Link` pagination.
   * @throws NotFoundError when the repository does not exist.
   */
  async tags(signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${this.path}/tags/list`;
    while (next) {
      const res = await this.request("GET", next, signal ? { signal } : {});
      const text = (await readLimited(res, 16 * 1024 * 1024, "tags")).toString("utf8");
      if (res.status !== 200) throw registryError(res.status, text, `tags of ${this.path}`);
      const json = JSON.parse(text) as { tags?: string[] | null };
      out.push(...(json.tags ?? []));
      next = nextLink(res);
    }
    return out;
  }
}

/** A response header as one string. */
export function header(res: RegistryResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The `rel="next"` target of a `Link` header (pagination), if any. */
export function nextLink(res: RegistryResponse): string | undefined {
  const link = header(res, "link");
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return m ? new URL(m[1]!, res.url).href : undefined;
}

function isManifestType(t: string): boolean {
  return (Object.values(MediaTypes) as string[]).includes(t) && /manifest|index/.test(t);
}

/** The whole body, refusing more than `limit` bytes. */
export async function readLimited(
  res: RegistryResponse,
  limit: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) {
        res.body.destroy();
        throw new InvalidArgumentError(`${what}: larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new UnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.concat(chunks);
}
