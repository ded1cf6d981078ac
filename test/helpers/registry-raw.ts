/**
 * Hand-made images pushed to the real registry through its HTTP API, byte for byte (a
 * config the registry never parses, an index, sizes of one's choosing), and a front that
 * answers a registry's blob requests with a redirect to another origin, as registries
 * whose storage is a CDN or S3 do, to check where credentials go.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { craftTar } from "./archives.js";

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** A blob or manifest as pushed: digest, size, media type (a descriptor). */
export interface Pushed {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
}

/** The registry API at `address` (`127.0.0.1:PORT`), with Basic credentials if given. */
export class RawRegistry {
  constructor(
    readonly address: string,
    private readonly auth?: { user: string; password: string },
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h = { ...extra };
    if (this.auth) {
      h.authorization = `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString("base64")}`;
    }
    return h;
  }

  /** Upload `data` as a blob of `repo` (POST, then PUT with its digest). */
  async blob(repo: string, data: Buffer, mediaType: string): Promise<Pushed> {
    const digest = sha256(data);
    const start = await fetch(`http://${this.address}/v2/${repo}/blobs/uploads/`, {
      method: "POST",
      headers: this.headers(),
    });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
    const url = new URL(start.headers.get("location")!, `http://${this.address}`);
    url.searchParams.set("digest", digest);
    const put = await fetch(url, {
      method: "PUT",
      body: data,
      headers: this.headers({ "content-type": "application/octet-stream" }),
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return { mediaType, digest, size: data.length };
  }

  /** PUT a manifest (or index) under `reference` (a tag); returns its descriptor. */
  async manifest(
    repo: string,
    reference: string,
    body: Buffer,
    mediaType: string,
  ): Promise<Pushed> {
    const res = await fetch(`http://${this.address}/v2/${repo}/manifests/${reference}`, {
      method: "PUT",
      body,
      headers: this.headers({ "content-type": mediaType }),
    });
    if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
    return { mediaType, digest: sha256(body), size: body.length };
  }

  /**
   * Push a one-layer OCI image as `repo:tag`: the config's bytes as given (default: a
   * valid linux/amd64 config for the layer), a small gzip layer.
   */
  async image(
    repo: string,
    tag: string,
    opts: { config?: (diffId: string) => Buffer; layer?: Buffer } = {},
  ): Promise<{ manifest: Pushed; config: Pushed; layer: Pushed }> {
    const tar = opts.layer ?? (await craftTar([{ name: "hello", body: `${repo}:${tag}\n` }]));
    const diffId = sha256(tar);
    const config =
      opts.config?.(diffId) ??
      Buffer.from(
        JSON.stringify({
          architecture: "amd64",
          os: "linux",
          config: { Cmd: ["/bin/sh"] },
          rootfs: { type: "layers", diff_ids: [diffId] },
        }),
      );
    const layer = await this.blob(
      repo,
      gzipSync(tar),
      "application/vnd.oci.image.layer.v1.tar+gzip",
    );
    const cfg = await this.blob(repo, config, "application/vnd.oci.image.config.v1+json");
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: cfg,
        layers: [layer],
      }),
    );
    const manifest = await this.manifest(
      repo,
      tag,
      body,
      "application/vnd.oci.image.manifest.v1+json",
    );
    return { manifest, config: cfg, layer };
  }

  /** Push an OCI index of `entries` as `repo:tag`. */
  async index(repo: string, tag: string, entries: Pushed[]): Promise<Pushed> {
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: entries,
      }),
    );
    return this.manifest(repo, tag, body, "application/vnd.oci.image.index.v1+json");
  }
}

/** One request a server received: method, path and headers. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** The front and the other origin of {@link startRedirectingFront}. */
export interface RedirectingFront {
  /** `127.0.0.1:PORT` of the front, to pull from (and log in to). */
  address: string;
  /** `127.0.0.1:PORT` of the other origin blobs are redirected to. */
  otherAddress: string;
  /** Requests the front passed to the registry. */
  front: SeenRequest[];
  /** Requests the other origin received (it serves the redirected blobs). */
  other: SeenRequest[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/**
 * A front on loopback for the registry at `target`: it passes every request through,
 * except a `GET` of a blob that the registry would serve (it asks the registry with the
 * client's own headers first), which it answers `307` to the same path on another origin
 * (another port: another host for credentials). That origin records what it receives and
 * serves the blob, fetched from the registry with `upstreamAuth`.
 */
export async function startRedirectingFront(
  target: string,
  upstreamAuth: string,
): Promise<RedirectingFront> {
  const front: SeenRequest[] = [];
  const other: SeenRequest[] = [];
  const [host, port] = [target.split(":")[0]!, Number(target.split(":")[1])];
  const pass = (
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
  ): Promise<import("node:http").IncomingMessage> =>
    new Promise((resolve, reject) => {
      const req = request({ host, port, method, path: url, headers: { ...headers, host: target } });
      req.on("response", resolve);
      req.on("error", reject);
      req.end();
    });
  let otherAddress = "";
  const frontServer = createServer((req, res) => {
    front.push({ method: req.method!, url: req.url!, headers: req.headers });
    const isBlobGet = req.method === "GET" && /^\/v2\/.+\/blobs\/sha256:/.test(req.url!);
    const forward = async () => {
      if (isBlobGet) {
        const head = await pass("HEAD", req.url!, req.headers);
        head.resume();
        if (head.statusCode === 200) {
          res.writeHead(307, { location: `http://${otherAddress}${req.url}` });
          res.end();
          return;
        }
      }
      const up = request({
        host,
        port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target },
      });
      up.on("response", (r) => {
        const headers = { ...r.headers };
        // Locations the registry gives (upload URLs) must lead back through the front.
        if (headers.location) headers.location = headers.location.replace(target, frontAddress);
        res.writeHead(r.statusCode!, headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
    };
    forward().catch(() => res.destroy());
  });
  const otherServer = createServer((req, res) => {
    other.push({ method: req.method!, url: req.url!, headers: req.headers });
    pass(req.method!, req.url!, { authorization: upstreamAuth }).then(
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
      () => res.destroy(),
    );
  });
  const frontAddress = await listen(frontServer);
  otherAddress = await listen(otherServer);
  return {
    address: frontAddress,
    otherAddress,
    front,
    other,
    close: async () => {
      for (const s of [frontServer, otherServer]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
