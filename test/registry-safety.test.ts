/**
 * What a pull does with a registry that serves wrong bytes, against the real registry:
 * a manifest, index, platform manifest or config that does not hash to its digest, a
 * config over 8 MiB (the 4 MiB manifest limit is a unit case of core's
 * `remote-repository.test.ts`: this registry will not serve such a manifest), a config
 * that is not JSON or has
 * fields of the wrong type — each refused with a clear error, exit 1, and nothing of the
 * image stored (no blob, no image). And where credentials go: never to another origin a
 * blob request is redirected to; the auth file stays readable by its owner only.
 *
 * Wrong bytes are made by editing the registry's storage (the registry serves what it
 * stored) or pushed as they are through the registry's API.
 */
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RegistryServer, registryCli, startRegistry, tamper } from "./helpers/registry.js";
import { RawRegistry, startRedirectingFront } from "./helpers/registry-raw.js";
import { cleanupTempDirs, createStrata, makeTempDir } from "./helpers/strata.js";

const USER = "bob";
const PASSWORD = "hunter2-Redirect";

let registry: RegistryServer;
let raw: RawRegistry;
let config: string;

beforeAll(async () => {
  const work = await makeTempDir("strata-registry-");
  registry = await startRegistry(join(work, "registry"));
  raw = new RawRegistry(registry.address);
  config = join(work, "config");
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

async function fresh() {
  return registryCli(await createStrata({ driver: "vfs" }), config);
}

/** Pull `ref` expecting a refusal worded as `message`, and an empty store afterwards. */
async function expectRefusedPull(ref: string, message: RegExp): Promise<void> {
  const cli = await fresh();
  const r = await cli.run(["pull", ref]);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^Error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(1);
  const list = (d: string) => readdir(join(cli.root, d)).catch(() => [] as string[]);
  expect(await list("content/blobs/sha256")).toEqual([]);
  expect(await list("content/ingest")).toEqual([]);
  expect(await cli.ok(["images", "-q"])).toBe("");
}

/** Rewrite a stored manifest as different but still valid JSON (one more space). */
async function respace(digest: string): Promise<void> {
  const file = registry.blobPath(digest);
  const text = await readFile(file, "utf8");
  await writeFile(file, text.replace('"schemaVersion":2', '"schemaVersion": 2'));
}

describe("pull refuses documents that do not match their digests, storing nothing", () => {
  it("a manifest pulled by digest", async () => {
    const img = await raw.image("safety/by-digest", "v1");
    await respace(img.manifest.digest);
    await expectRefusedPull(
      `${registry.address}/safety/by-digest@${img.manifest.digest}`,
      /manifest sha256:[a-f0-9]{64}: digest mismatch: expected sha256:[a-f0-9]{64}, content hashes to sha256:/,
    );
  });

  it("an index pulled by tag (the registry's Docker-Content-Digest)", async () => {
    const img = await raw.image("safety/index", "amd64");
    const index = await raw.index("safety/index", "latest", [
      { ...img.manifest, platform: { os: "linux", architecture: "amd64" } },
    ]);
    await respace(index.digest);
    await expectRefusedPull(`${registry.address}/safety/index:latest`, /digest mismatch/);
  });

  it("a platform manifest that does not hash to the digest its index names", async () => {
    const img = await raw.image("safety/child", "amd64");
    await raw.index("safety/child", "latest", [
      { ...img.manifest, platform: { os: "linux", architecture: "amd64" } },
    ]);
    await respace(img.manifest.digest);
    await expectRefusedPull(
      `${registry.address}/safety/child:latest`,
      new RegExp(`manifest ${img.manifest.digest}: digest mismatch`),
    );
  });

  it("a config", async () => {
    const img = await raw.image("safety/config", "v1");
    await tamper(registry.blobPath(img.config.digest), 10);
    await expectRefusedPull(
      `${registry.address}/safety/config:v1`,
      new RegExp(`blob ${img.config.digest}: digest mismatch`),
    );
  });

  it("a layer of an image in an index (neither index nor config is kept)", async () => {
    const img = await raw.image("safety/layer", "amd64");
    await raw.index("safety/layer", "latest", [
      { ...img.manifest, platform: { os: "linux", architecture: "amd64" } },
    ]);
    await tamper(registry.blobPath(img.layer.digest), 20);
    await expectRefusedPull(
      `${registry.address}/safety/layer:latest`,
      new RegExp(`filesystem layer verification failed for digest ${img.layer.digest}`),
    );
  });
});

describe("pull refuses documents too large or malformed, storing nothing", () => {
  it("a config larger than 8 MiB, before downloading it", async () => {
    await raw.image("safety/huge-config", "v1", {
      config: (diffId) =>
        Buffer.from(
          JSON.stringify({
            architecture: "amd64",
            os: "linux",
            comment: "x".repeat(9 * 1024 * 1024),
            rootfs: { type: "layers", diff_ids: [diffId] },
          }),
        ),
    });
    await expectRefusedPull(
      `${registry.address}/safety/huge-config:v1`,
      /image config sha256:[a-f0-9]{64}: 9437\d+ bytes is larger than the 8388608 bytes a config may have/,
    );
  });

  it("a config that is not JSON, or whose fields have the wrong types", async () => {
    await raw.image("safety/bad-config", "not-json", { config: () => Buffer.from("{nope") });
    await expectRefusedPull(
      `${registry.address}/safety/bad-config:not-json`,
      /image config sha256:[a-f0-9]{64}: invalid JSON/,
    );
    await raw.image("safety/bad-config", "env", {
      config: (diffId) =>
        Buffer.from(
          JSON.stringify({
            architecture: "amd64",
            os: "linux",
            config: { Env: "PATH=/bin" },
            rootfs: { type: "layers", diff_ids: [diffId] },
          }),
        ),
    });
    await expectRefusedPull(
      `${registry.address}/safety/bad-config:env`,
      /image config sha256:[a-f0-9]{64}: config\.Env is not a list of strings/,
    );
    await raw.image("safety/bad-config", "diff-ids", {
      config: () =>
        Buffer.from(JSON.stringify({ os: "linux", rootfs: { type: "layers", diff_ids: [7] } })),
    });
    await expectRefusedPull(
      `${registry.address}/safety/bad-config:diff-ids`,
      /rootfs\.diff_ids\[0\] 7 is not a sha256 digest/,
    );
  });
});

describe("credentials", () => {
  it("go to the registry they belong to, never across a redirect to another origin", async () => {
    const work = await makeTempDir("strata-redirect-");
    const basic = await startRegistry(join(work, "basic"), {
      htpasswd: { user: USER, password: PASSWORD },
    });
    const basicAuth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    const front = await startRedirectingFront(basic.address, basicAuth);
    try {
      await new RawRegistry(basic.address, { user: USER, password: PASSWORD }).image(
        "private/app",
        "v1",
      );
      const cli = registryCli(
        await createStrata({ driver: "vfs" }),
        join(work, "config", "strata"),
      );
      await cli.ok(["login", "-u", USER, "--password-stdin", front.address], {
        input: `${PASSWORD}\n`,
      });
      expect(await cli.ok(["pull", "-q", `${front.address}/private/app:v1`])).toBe(
        `${front.address}/private/app:v1\n`,
      );
      // The registry saw the credentials; the origin the blobs were redirected to did not.
      expect(front.front.some((r) => r.headers.authorization === basicAuth)).toBe(true);
      const blobGets = front.other.filter((r) => /\/blobs\/sha256:/.test(r.url));
      expect(blobGets.length).toBeGreaterThanOrEqual(2); // config and layer
      for (const r of front.other) {
        expect(r.headers.authorization, `${r.method} ${r.url}`).toBeUndefined();
        expect(JSON.stringify(r.headers)).not.toContain(PASSWORD);
      }
    } finally {
      await front.close();
      await basic.stop();
    }
  });

  it("are kept in an auth file only its owner can read, whatever its mode was", async () => {
    const dir = join(await makeTempDir("strata-config-"), "strata");
    const cli = registryCli(await createStrata({ driver: "vfs" }), dir);
    // A hand-made file, readable by everyone, with credentials of another registry.
    await mkdir(dir, { recursive: true });
    const file = join(dir, "auth.json");
    const other = {
      auths: { "other.example:5000": { auth: Buffer.from("u:p").toString("base64") } },
    };
    await writeFile(file, JSON.stringify(other));
    await chmod(file, 0o644);
    const r = await cli.run(["login", "-u", "someone", "--password-stdin", registry.address], {
      input: "anything\n",
    });
    expect(r.code).toBe(0); // an open registry takes any login
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, "utf8"));
    expect(Object.keys(saved.auths).sort()).toEqual(
      [registry.address, "other.example:5000"].sort(),
    );
    expect(await readdir(dir)).toEqual(["auth.json"]); // no temporary file left beside it
  });
});
