/**
 * End-to-end tests of `login`, `logout`, authenticated pull and push, and `search`, against
 * the real registry: Basic auth from an htpasswd file, Bearer tokens from a token server the
 * registry trusts, and the `_catalog` fallback of `search`.
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { must, type RegistryServer, registryCli, startRegistry } from "./helpers/registry.js";
import { type SeededImages, seedImages } from "./helpers/registry-seed.js";
import { cleanupTempDirs, createStrata, makeTempDir } from "./helpers/strata.js";
import { startProxy } from "./helpers/tcp-proxy.js";
import { startTokenServer, type TokenServer } from "./helpers/token-server.js";

const USER = "alice";
const PASSWORD = "s3cret-Pa55";

let plain: RegistryServer;
let basic: RegistryServer;
let bearer: RegistryServer;
let tokens: TokenServer;
let seeded: SeededImages;
let work: string;

/** Copy the seeded busybox into an authenticated registry with skopeo. */
async function copyInto(target: RegistryServer): Promise<void> {
  await must("skopeo", [
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    "--dest-creds",
    `${USER}:${PASSWORD}`,
    `docker://${seeded.oci.ref}`,
    `docker://${target.address}/library/busybox:latest`,
  ]);
}

beforeAll(async () => {
  work = await makeTempDir("strata-registry-");
  plain = await startRegistry(join(work, "plain"));
  seeded = await seedImages(plain.address, join(work, "seed"));
  basic = await startRegistry(join(work, "basic"), {
    htpasswd: { user: USER, password: PASSWORD },
  });
  await mkdir(join(work, "tokens"), { recursive: true });
  tokens = await startTokenServer(join(work, "tokens"), USER, PASSWORD);
  bearer = await startRegistry(join(work, "bearer"), { token: { ...tokens } });
  await copyInto(basic);
  await copyInto(bearer);
});
afterAll(async () => {
  await Promise.all([plain?.stop(), basic?.stop(), bearer?.stop(), tokens?.close()]);
  await cleanupTempDirs();
});

async function fresh(config: string) {
  return registryCli(await createStrata({ driver: "vfs" }), config);
}

describe("Basic auth (htpasswd)", () => {
  it("logs in, pulls and pushes, keeps credentials 0600 for their host only, and logs out", async () => {
    const config = join(await makeTempDir("strata-config-"), "strata");
    const cli = await fresh(config);
    const image = `${basic.address}/library/busybox:latest`;

    const anonymous = await cli.run(["pull", image]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toBe(
      `Error: Head "http://${basic.address}/v2/library/busybox/manifests/latest": no basic auth credentials\n`,
    );

    const wrong = await cli.run(["login", "-u", USER, "--password-stdin", basic.address], {
      input: "nope\n",
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `Error: login attempt to http://${basic.address}/v2/ failed with status: 401 Unauthorized\n`,
    );
    await expect(stat(join(config, "auth.json"))).rejects.toThrow();

    const ok = await cli.run(["login", "-u", USER, "-p", PASSWORD, basic.address]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("Login Succeeded\n");
    expect(ok.stderr).toContain(
      "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
    );
    const st = await stat(join(config, "auth.json"));
    expect(st.mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(config, "auth.json"), "utf8"))).toEqual({
      auths: { [basic.address]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
    });

    expect(await cli.ok(["pull", "-q", image])).toBe(`${image}\n`);
    await cli.ok(["import", seeded.rootfsTar, `${basic.address}/mine/busybox:v1`]);
    const push = await cli.run(["push", `${basic.address}/mine/busybox:v1`]);
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/^v1: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    const search = await cli.ok(["search", "--format", "{{.Name}}", `${basic.address}/busybox`]);
    expect(search.split("\n").sort()).toEqual(
      ["", `${basic.address}/library/busybox`, `${basic.address}/mine/busybox`].sort(),
    );

    // Another registry never sees these credentials.
    const proxy = await startProxy(plain.address);
    try {
      await cli.ok(["pull", "-q", `${proxy.address}/library/busybox:v2s2`]);
      expect(proxy.received).toContain("GET /v2/library/busybox/manifests/");
      expect(proxy.received.toLowerCase()).not.toContain("authorization:");
    } finally {
      await proxy.close();
    }

    expect(await cli.ok(["logout", basic.address])).toBe(
      `Removing login credentials for ${basic.address}\n`,
    );
    expect(await cli.ok(["logout", basic.address])).toBe(`Not logged in to ${basic.address}\n`);
    expect((await cli.run(["pull", image])).code).toBe(1);

    // docker's own config is read (never written) when strata has no entry.
    await mkdir(cli.env.DOCKER_CONFIG, { recursive: true });
    const dockerConfig = join(cli.env.DOCKER_CONFIG, "config.json");
    const auths = {
      auths: { [basic.address]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
    };
    await writeFile(dockerConfig, JSON.stringify(auths));
    await cli.ok(["rmi", image]);
    expect(await cli.ok(["pull", "-q", image])).toBe(`${image}\n`);
    expect(JSON.parse(await readFile(dockerConfig, "utf8"))).toEqual(auths);
  });

  it("refuses usage docker refuses", async () => {
    const cli = await fresh(join(await makeTempDir("strata-config-"), "strata"));
    const both = await cli.run(["login", "-u", USER, "-p", "x", "--password-stdin", basic.address]);
    expect(both.code).toBe(125);
    expect(both.stderr).toContain("--password and --password-stdin are mutually exclusive");
    const noUser = await cli.run(["login", "--password-stdin", basic.address], { input: "x" });
    expect(noUser.code).toBe(125);
    expect(noUser.stderr).toContain("Must provide --username with --password-stdin");
    const tty = await cli.run(["login", basic.address]);
    expect(tty.code).toBe(1);
    expect(tty.stderr).toBe("Error: Cannot perform an interactive login from a non TTY device\n");
  });
});

describe("Bearer token auth", () => {
  it("fetches tokens for the scopes it needs, with the stored credentials", async () => {
    const config = join(await makeTempDir("strata-config-"), "strata");
    const cli = await fresh(config);
    const image = `${bearer.address}/library/busybox:latest`;
    const anonymous = await cli.run(["pull", image]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(
      /^Error: pull access denied for .*\/library\/busybox, repository does not exist or may require 'docker login': .*(unauthorized|insufficient)/,
    );
    const login = await cli.run(["login", "-u", USER, "--password-stdin", bearer.address], {
      input: `${PASSWORD}\n`,
    });
    expect(login.stderr).not.toContain("Error");
    expect(login.stdout).toBe("Login Succeeded\n");
    const bad = await cli.run(["login", "-u", USER, "--password-stdin", bearer.address], {
      input: "wrong\n",
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unauthorized: incorrect username or password");

    const seen = tokens.requests.length;
    expect(await cli.ok(["pull", "-q", image])).toBe(`${image}\n`);
    const pulls = tokens.requests.slice(seen);
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.every((r) => r.user === USER)).toBe(true);
    expect(pulls.flatMap((r) => r.scopes)).toContain("repository:library/busybox:pull");

    await cli.ok(["tag", image, `${bearer.address}/pushed/busybox:v1`]);
    const push = await cli.run(["push", `${bearer.address}/pushed/busybox:v1`]);
    expect(push.stderr).toBe("");
    expect(push.stdout).toContain(": Mounted from library/busybox\n");
    expect(tokens.requests.slice(seen).flatMap((r) => r.scopes)).toContain(
      "repository:pushed/busybox:pull,push",
    );
  });
});

describe("search", () => {
  it("falls back to the catalog, filtered by the term, as docker's table or a template", async () => {
    const cli = await fresh(join(await makeTempDir("strata-config-"), "strata"));
    const out = await cli.ok(["search", `${plain.address}/busy`]);
    const lines = out.split("\n");
    expect(lines[0]).toMatch(/^NAME {3,}DESCRIPTION {3,}STARS {3,}OFFICIAL$/);
    const names = lines.slice(1, -1).map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual([
      `${plain.address}/library/busybox`,
      `${plain.address}/plain/busybox`,
      `${plain.address}/zstd/busybox`,
    ]);
    expect(lines[1]).toMatch(/ {3,}0 {3,}$/);
    expect(
      await cli.ok(["search", "--limit", "1", "--format", "{{.Name}}", `${plain.address}/busy`]),
    ).toBe(`${plain.address}/library/busybox\n`);
    expect(
      await cli.ok([
        "search",
        "--format",
        "table {{.Name}}\t{{.StarCount}}",
        `${plain.address}/multi`,
      ]),
    ).toBe(
      `NAME${" ".repeat(plain.address.length + 14 - 4 + 3)}STARS\n${plain.address}/library/multi   0\n`,
    );
    expect(await cli.ok(["search", "--filter", "stars=1", `${plain.address}/busy`])).toMatch(
      /^NAME[^\n]*\n$/,
    );
    expect(
      await cli.ok(["search", "--filter", "is-official=true", `${plain.address}/busy`]),
    ).toMatch(/^NAME[^\n]*\n$/);
    const limit = await cli.run(["search", "--limit", "101", `${plain.address}/busy`]);
    expect(limit.code).toBe(1);
    expect(limit.stderr).toBe("Error: limit 101 is outside the range of [1, 100]\n");
    const filter = await cli.run(["search", "--filter", "color=blue", `${plain.address}/busy`]);
    expect(filter.code).toBe(125);
  });
});
