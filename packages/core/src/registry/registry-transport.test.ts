import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../errors.js";
import { HttpAgents, RegistryTransport } from "./registry-transport.js";

/** Two plain HTTP servers: a "registry" that wants Basic auth and redirects blobs to "storage". */
let registry: http.Server;
let storage: http.Server;
let registryAddr: string;
let storageAddr: string;
const seen: { server: string; url: string; auth?: string }[] = [];

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

beforeAll(async () => {
  const good = `Basic ${Buffer.from("alice:pw").toString("base64")}`;
  registry = http.createServer((req, res) => {
    seen.push({
      server: "registry",
      url: req.url ?? "",
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });
    if (req.headers.authorization !== good) {
      res.writeHead(401, {
        "www-authenticate": 'Basic realm="test"',
        "content-type": "application/json",
      });
      res.end(
        JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }),
      );
      return;
    }
    res.writeHead(307, { location: `http://${storageAddr}/bucket/blob?sig=1` });
    res.end();
  });
  storage = http.createServer((req, res) => {
    seen.push({
      server: "storage",
      url: req.url ?? "",
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end("blob bytes");
  });
  registryAddr = await listen(registry);
  storageAddr = await listen(storage);
});
afterAll(async () => {
  await new Promise((r) => registry.close(r));
  await new Promise((r) => storage.close(r));
});

describe("RegistryTransport", () => {
  it("answers a Basic challenge, follows a redirect, and never sends the credentials elsewhere", async () => {
    const agents = new HttpAgents();
    const t = new RegistryTransport(
      {
        domain: registryAddr,
        host: registryAddr,
        baseUrl: `http://${registryAddr}`,
        insecure: true,
      },
      agents,
      { username: "alice", password: "pw" },
    );
    try {
      const res = await t.request({ method: "GET", path: "/v2/x/blobs/sha256:abc" });
      expect(res.status).toBe(200);
      expect(await res.body.text()).toBe("blob bytes");
      expect(res.url.host).toBe(storageAddr);
      expect(seen.filter((s) => s.server === "registry").map((s) => !!s.auth)).toEqual([
        false,
        true,
      ]);
      expect(seen.filter((s) => s.server === "storage")).toEqual([
        { server: "storage", url: "/bucket/blob?sig=1" },
      ]);
    } finally {
      await agents.close();
    }
  });

  it("says docker's 'no basic auth credentials' without credentials", async () => {
    const agents = new HttpAgents();
    const t = new RegistryTransport(
      {
        domain: registryAddr,
        host: registryAddr,
        baseUrl: `http://${registryAddr}`,
        insecure: true,
      },
      agents,
      undefined,
    );
    try {
      const err = await t
        .request({ method: "HEAD", path: "/v2/x/manifests/latest" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FailedPreconditionError);
      expect((err as Error).message).toBe(
        `Head "http://${registryAddr}/v2/x/manifests/latest": no basic auth credentials`,
      );
    } finally {
      await agents.close();
    }
  });
});
