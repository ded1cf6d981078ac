/**
 * A token server for the real registry's `token` auth (the distribution spec's Bearer flow):
 * it checks HTTP Basic credentials and answers `GET /token?service=…&scope=…` with a JWT
 * signed RS256 by a key whose self-signed certificate (made by openssl) the registry trusts
 * (`rootcertbundle`). Anonymous requests get a token with no access, as Docker Hub's
 * `auth.docker.io` does for a private repository. Requests are recorded for assertions.
 */
import { createSign, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { must } from "./registry.js";

/** A running token server. */
export interface TokenServer {
  /** `http://127.0.0.1:PORT/token`. */
  realm: string;
  service: string;
  issuer: string;
  /** The certificate file the registry must trust. */
  certFile: string;
  /** Requests seen: the scopes asked for and the user who authenticated (if any). */
  readonly requests: { scopes: string[]; user?: string }[];
  close(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Start a token server in `dir` accepting `user`/`password`. */
export async function startTokenServer(
  dir: string,
  user: string,
  password: string,
): Promise<TokenServer> {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  await must("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=strata-test-token",
  ]);
  const key = await readFile(keyFile, "utf8");
  const certDer = (await readFile(certFile, "utf8"))
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, "")
    .replace(/\s+/g, "");
  const service = "strata-test-registry";
  const issuer = "strata-test-issuer";
  const requests: { scopes: string[]; user?: string }[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope");
    let who: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Basic ")) {
      const [u, p] = Buffer.from(auth.slice(6), "base64").toString().split(":");
      if (u !== user || p !== password) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            errors: [{ code: "UNAUTHORIZED", message: "incorrect username or password" }],
          }),
        );
        requests.push({ scopes });
        return;
      }
      who = u;
    }
    requests.push({ scopes, ...(who ? { user: who } : {}) });
    const access = who
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(":");
          const actions = rest.pop() ?? "";
          return { type, name: rest.join(":"), actions: actions.split(",").filter(Boolean) };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [certDer] };
    const claims = {
      iss: issuer,
      sub: who ?? "",
      aud: service,
      exp: now + 600,
      nbf: now - 60,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign("RSA-SHA256").update(signingInput).sign(key);
    const token = `${signingInput}.${b64url(signature)}`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: 600,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
