import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { parseImageManifest } from "../image/image-documents.js";
import { HttpAgents, RegistryTransport } from "./registry-transport.js";
import { RemoteRepository } from "./remote-repository.js";

/**
 * Answers a registry's real server will not give (it refuses to store or serve them), so
 * that the client's own limits and checks are what is tested: a manifest over docker's
 * 4 MiB, a manifest of an unknown media type, a blob longer than its descriptor says.
 */
const bodies: Record<string, { type: string; body: Buffer }> = {};
let server: http.Server;
let address: string;
let agents: HttpAgents;
let repo: RemoteRepository;

function sha256(b: Buffer): string {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const hit = bodies[req.url ?? ""];
    if (!hit) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "unknown" }] }));
      return;
    }
    res.writeHead(200, { "content-type": hit.type, "content-length": hit.body.length });
    res.end(req.method === "HEAD" ? undefined : hit.body);
  });
  address = await new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
  agents = new HttpAgents();
  const t = new RegistryTransport(
    { domain: address, host: address, baseUrl: `http://${address}`, insecure: true },
    agents,
  );
  repo = new RemoteRepository(t, "x/y");
});
afterAll(async () => {
  await agents.close();
  await new Promise((r) => server.close(r));
});

describe("RemoteRepository refuses what a hostile registry serves", () => {
  it("a manifest larger than 4 MiB, without reading it all", async () => {
    const body = Buffer.concat([
      Buffer.from('{"schemaVersion":2,'),
      Buffer.alloc(5 * 1024 * 1024, " "),
      Buffer.from("}"),
    ]);
    bodies["/v2/x/y/manifests/big"] = {
      type: "application/vnd.oci.image.manifest.v1+json",
      body,
    };
    const err = await repo.getManifest("big").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe("manifest big: larger than 4194304 bytes");
  });

  it("a manifest that is not JSON", async () => {
    bodies["/v2/x/y/manifests/junk"] = {
      type: "application/vnd.oci.image.manifest.v1+json",
      body: Buffer.from("<html>"),
    };
    await expect(repo.getManifest("junk")).rejects.toThrow(/manifest junk: not valid JSON/);
  });

  it("a manifest of an unknown media type (fetched, then refused by the parser)", async () => {
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.example.thing.v1+json",
        config: { mediaType: "x", digest: sha256(Buffer.from("c")), size: 1 },
        layers: [],
      }),
    );
    bodies["/v2/x/y/manifests/odd"] = { type: "application/json", body };
    const m = await repo.getManifest("odd");
    expect(m.mediaType).toBe("application/vnd.example.thing.v1+json");
    expect(() => parseImageManifest(m.bytes, m.mediaType)).toThrow(NotSupportedError);
    expect(() => parseImageManifest(m.bytes, m.mediaType)).toThrow(
      'manifest: unsupported manifest media type "application/vnd.example.thing.v1+json"',
    );
  });

  it("a blob longer than its descriptor, or with other bytes", async () => {
    const body = Buffer.from('{"os":"linux"}');
    bodies[`/v2/x/y/blobs/${sha256(body)}`] = { type: "application/octet-stream", body };
    const desc = { mediaType: "application/json", digest: sha256(body), size: body.length - 1 };
    await expect(repo.getBlob(desc)).rejects.toThrow(/digest mismatch: content hashes to/);
    const other = Buffer.from('{"os":"plan9"}');
    bodies[`/v2/x/y/blobs/${sha256(other)}`] = { type: "application/octet-stream", body };
    await expect(
      repo.getBlob({ mediaType: "x", digest: sha256(other), size: other.length }),
    ).rejects.toThrow(InvalidArgumentError);
  });
});
