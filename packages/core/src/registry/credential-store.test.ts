import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CredentialStore, DOCKER_HUB_AUTH_KEY } from "./credential-store.js";

const dirs: string[] = [];
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "strata-creds-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("CredentialStore", () => {
  it("stores credentials in docker's format with mode 0600 and finds them by host only", async () => {
    const root = await dir();
    const store = new CredentialStore(join(root, "cfg"));
    store.set("127.0.0.1:5000", { username: "alice", password: "p:w" });
    store.set("docker.io", { username: "bob", password: "x" });
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, "cfg"))).mode & 0o777).toBe(0o700);
    const json = JSON.parse(await readFile(store.file, "utf8"));
    expect(json.auths["127.0.0.1:5000"].auth).toBe(Buffer.from("alice:p:w").toString("base64"));
    expect(Object.keys(json.auths)).toContain(DOCKER_HUB_AUTH_KEY);
    expect(store.get("127.0.0.1:5000")).toEqual({ username: "alice", password: "p:w" });
    expect(store.get("127.0.0.1:5001")).toBeUndefined();
    expect(store.get("127.0.0.1")).toBeUndefined();
    expect(store.get("docker.io")).toEqual({ username: "bob", password: "x" });
    expect(store.remove("127.0.0.1:5000")).toBe(true);
    expect(store.remove("127.0.0.1:5000")).toBe(false);
    expect(store.get("127.0.0.1:5000")).toBeUndefined();
  });

  it("reads docker's config as a fallback, URL keys included, and keeps other keys", async () => {
    const root = await dir();
    const docker = join(root, "docker.json");
    await writeFile(
      docker,
      JSON.stringify({
        auths: {
          "https://registry.example:5000/v2/": { auth: Buffer.from("u:p").toString("base64") },
          "https://index.docker.io/v1/": { username: "hub", password: "h" },
        },
      }),
    );
    const store = new CredentialStore(join(root, "cfg"), docker);
    expect(store.get("registry.example:5000")).toEqual({ username: "u", password: "p" });
    expect(store.get("docker.io")).toEqual({ username: "hub", password: "h" });
    await writeFile(join(root, "cfg.json"), "");
    const own = new CredentialStore(root);
    await writeFile(own.file, JSON.stringify({ credsStore: "none", auths: {} }));
    own.set("r.example", { username: "a", password: "b" });
    expect(JSON.parse(await readFile(own.file, "utf8")).credsStore).toBe("none");
  });
});
