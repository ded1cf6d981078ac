/**
 * End-to-end tests of `strata pull` against the real registry server (Debian's
 * docker-registry on loopback), seeded by umoci and skopeo: OCI and schema 2 manifests,
 * gzip, plain and zstd layers, a two-platform index, docker's output, and what gets stored.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RegistryServer, registryCli, startRegistry } from "./helpers/registry.js";
import {
  type SeededImage,
  type SeededImages,
  seedImages,
  seedLayeredImage,
} from "./helpers/registry-seed.js";
import { cleanupTempDirs, createStrata, makeTempDir } from "./helpers/strata.js";

let registry: RegistryServer;
let seeded: SeededImages;
let layered: SeededImage;
let config: string;

beforeAll(async () => {
  const work = await makeTempDir("strata-registry-");
  registry = await startRegistry(join(work, "registry"));
  seeded = await seedImages(registry.address, join(work, "seed"));
  layered = await seedLayeredImage(registry.address, join(work, "seed"), 4);
  config = join(work, "config");
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

/** A fresh store with the registry's client config. */
async function fresh() {
  return registryCli(await createStrata({ driver: "vfs" }), config);
}

const short = (digest: string) => digest.slice(7, 19);

/** sha256 of every blob in a store's content store, by name. */
async function storedBlobs(root: string): Promise<Map<string, string>> {
  const dir = join(root, "content/blobs/sha256");
  const out = new Map<string, string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    out.set(
      `sha256:${name}`,
      createHash("sha256")
        .update(await readFile(join(dir, name)))
        .digest("hex"),
    );
  }
  return out;
}

function inspect(stdout: string): Record<string, unknown> {
  return (JSON.parse(stdout) as Record<string, unknown>[])[0]!;
}

describe("strata pull from a real registry", () => {
  it("pulls an OCI image by tag with docker's output, stored under its config digest", async () => {
    const cli = await fresh();
    const res = await cli.run(["pull", seeded.oci.ref]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const id = short(seeded.oci.layers[0]!);
    expect(res.stdout).toBe(
      [
        "latest: Pulling from library/busybox",
        `${id}: Pulling fs layer`,
        `${id}: Verifying Checksum`,
        `${id}: Download complete`,
        `${id}: Pull complete`,
        `Digest: ${seeded.oci.digest}`,
        `Status: Downloaded newer image for ${seeded.oci.ref}`,
        `${seeded.oci.ref}`,
        "",
      ].join("\n"),
    );
    const img = inspect(await cli.ok(["image", "inspect", seeded.oci.ref]));
    expect(img.Id).toBe(seeded.oci.config);
    expect(img.RepoTags).toEqual([seeded.oci.ref]);
    expect(img.RepoDigests).toEqual([`${registry.address}/library/busybox@${seeded.oci.digest}`]);
    const images = await cli.ok(["images", "--digests"]);
    expect(images).toContain(seeded.oci.digest);
    expect(images).toContain(short(seeded.oci.config));
    // Every stored blob hashes to its name; the layer is kept compressed.
    const blobs = await storedBlobs(cli.root);
    for (const [digest, hash] of blobs) expect(`sha256:${hash}`).toBe(digest);
    expect(blobs.has(seeded.oci.layers[0]!)).toBe(true);
    expect(await readdir(join(cli.root, "content/ingest"))).toEqual([]);
  });

  it("says the image is up to date on a second pull, and prints no layer lines", async () => {
    const cli = await fresh();
    await cli.ok(["pull", "-q", seeded.oci.ref]);
    const res = await cli.run(["pull", seeded.oci.ref.replace(/:latest$/, "")]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        "Using default tag: latest",
        "latest: Pulling from library/busybox",
        `Digest: ${seeded.oci.digest}`,
        `Status: Image is up to date for ${seeded.oci.ref}`,
        seeded.oci.ref,
        "",
      ].join("\n"),
    );
  });

  it("pulls a schema 2 image, and skips the layers of an image it has already", async () => {
    const cli = await fresh();
    const res = await cli.run(["pull", seeded.v2s2.ref]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`${short(seeded.v2s2.layers[0]!)}: Pull complete\n`);
    expect(res.stdout).toContain(`Digest: ${seeded.v2s2.digest}\n`);
    const img = inspect(await cli.ok(["image", "inspect", seeded.v2s2.ref]));
    expect(img.Id).toBe(seeded.v2s2.config);
    expect(img.RepoDigests).toEqual([`${registry.address}/library/busybox@${seeded.v2s2.digest}`]);
    // The OCI copy has the same config: docker shows no layer lines for an image it has.
    const oci = await cli.run(["pull", seeded.oci.ref]);
    expect(oci.stdout).not.toContain(": Pulling fs layer");
    expect(oci.stdout).toContain(`Status: Downloaded newer image for ${seeded.oci.ref}\n`);
  });

  it("pulls by digest, and finds the image by that digest afterwards", async () => {
    const cli = await fresh();
    const ref = `${registry.address}/library/busybox@${seeded.oci.digest}`;
    const res = await cli.run(["pull", ref]);
    expect(res.code).toBe(0);
    expect(res.stdout.split("\n")[0]).toBe(`${seeded.oci.digest}: Pulling from library/busybox`);
    expect(res.stdout).toMatch(new RegExp(`Status: Downloaded newer image for ${ref}\n${ref}\n$`));
    const img = inspect(await cli.ok(["image", "inspect", ref]));
    expect(img.Id).toBe(seeded.oci.config);
    expect(img.RepoTags).toEqual([]);
    const again = await cli.run(["pull", ref]);
    expect(again.stdout).toContain(`Status: Image is up to date for ${ref}`);
  });

  it("pulls plain and zstd layers as they are, and the images run", async () => {
    // Each in a store of its own: they share their config, so a second one would be known.
    for (const image of [seeded.plain, seeded.zstd, seeded.oci]) {
      const cli = await fresh();
      const res = await cli.run(["pull", image.ref]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`${short(image.layers[0]!)}: Pull complete\n`);
      const img = inspect(await cli.ok(["image", "inspect", image.ref]));
      expect(img.Id).toBe(image.config);
      expect((await storedBlobs(cli.root)).has(image.layers[0]!)).toBe(true);
      const out = await cli.ok(["run", "--rm", image.ref, "/bin/busybox", "echo", "ran"]);
      expect(out).toBe("ran\n");
    }
  });

  it("picks this machine's platform from an index, or the one --platform names", async () => {
    const cli = await fresh();
    const res = await cli.run(["pull", seeded.multi.ref]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Digest: ${seeded.multi.digest}\n`);
    let img = inspect(await cli.ok(["image", "inspect", seeded.multi.ref]));
    expect(img.Id).toBe(seeded.multi.amd64.config);
    expect(img.Architecture).toBe("amd64");
    expect(img.RepoDigests).toEqual([`${registry.address}/library/multi@${seeded.multi.digest}`]);
    // The arm64 image shares its layer with the amd64 one.
    const arm = await cli.run(["pull", "--platform", "linux/arm64", seeded.multi.ref]);
    expect(arm.stdout).toContain(`${short(seeded.multi.arm64.layers[0]!)}: Already exists\n`);
    expect(arm.stdout).not.toContain(": Pulling fs layer");
    img = inspect(await cli.ok(["image", "inspect", seeded.multi.ref]));
    expect(img.Id).toBe(seeded.multi.arm64.config);
    expect(img.Architecture).toBe("arm64");
    const none = await cli.run(["pull", "--platform", "linux/s390x", seeded.multi.ref]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "Error: no matching manifest for linux/s390x in the manifest list entries\n",
    );
    const single = await cli.run(["pull", "--platform", "linux/arm64", seeded.oci.ref]);
    expect(single.code).toBe(1);
    expect(single.stderr).toContain(
      "does not match the specified platform: wanted linux/arm64/v8, actual: linux/amd64",
    );
  });

  it("pulls every tag with -a and prints only the reference with -q", async () => {
    const cli = await fresh();
    const all = await cli.run(["pull", "-a", `${registry.address}/library/busybox`]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("latest: Pulling from library/busybox\n");
    expect(all.stdout).toContain("v2s2: Pulling from library/busybox\n");
    expect(all.stdout).toMatch(
      new RegExp(
        `Status: Downloaded newer image for ${registry.address}/library/busybox\n${registry.address}/library/busybox\n$`,
      ),
    );
    const tags = await cli
      .ok(["images", "--format", "{{.Tag}}", `${registry.address}/library/busybox`])
      .catch(async () => cli.ok(["images", `${registry.address}/library/busybox`]));
    expect(tags).toContain("latest");
    expect(tags).toContain("v2s2");
    const quiet = await fresh();
    expect(await quiet.ok(["pull", "-q", seeded.v2s2.ref])).toBe(`${seeded.v2s2.ref}\n`);
    const bad = await quiet.run(["pull", "-a", seeded.v2s2.ref]);
    expect(bad.code).toBe(125);
  });

  it("downloads at most --max-concurrent-downloads layers at once; the rest wait", async () => {
    const cli = await fresh();
    const res = await cli.run(["pull", "--max-concurrent-downloads", "1", layered.ref]);
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n");
    const ids = layered.layers.map(short);
    expect(lines.filter((l) => l.endsWith(": Pulling fs layer"))).toEqual(
      ids.map((i) => `${i}: Pulling fs layer`),
    );
    expect(lines.filter((l) => l.endsWith(": Waiting"))).toEqual(
      ids.slice(1).map((i) => `${i}: Waiting`),
    );
    // One at a time: each layer completes before the next one's bytes are checked.
    const order = lines.filter((l) => / (Verifying Checksum|Download complete)$/.test(l));
    expect(order).toEqual(
      ids.flatMap((i) => [`${i}: Verifying Checksum`, `${i}: Download complete`]),
    );
    expect(lines.filter((l) => l.endsWith(": Pull complete"))).toEqual(
      ids.map((i) => `${i}: Pull complete`),
    );
    const img = inspect(await cli.ok(["image", "inspect", layered.ref]));
    expect((img.RootFS as { Layers: string[] }).Layers).toHaveLength(4);
    const three = await fresh();
    const res3 = await three.run(["pull", layered.ref]);
    expect(res3.stdout.split("\n").filter((l) => l.endsWith(": Waiting"))).toEqual([
      `${ids[3]}: Waiting`,
    ]);
    const bad = await three.run(["pull", "--max-concurrent-downloads", "0", layered.ref]);
    expect(bad.code).toBe(125);
  });

  it("pulls docker.io names through --registry-mirror or registries.json, as docker does", async () => {
    const cli = await fresh();
    const res = await cli.run([
      "--registry-mirror",
      `http://${registry.address}`,
      "pull",
      "busybox",
    ]);
    expect(res.stderr).toBe("");
    expect(res.stdout).toMatch(
      /^Using default tag: latest\nlatest: Pulling from library\/busybox\n[\s\S]*Status: Downloaded newer image for busybox:latest\ndocker\.io\/library\/busybox:latest\n$/,
    );
    const img = inspect(await cli.ok(["image", "inspect", "busybox"]));
    expect(img.Id).toBe(seeded.oci.config);
    expect(img.RepoDigests).toEqual([`busybox@${seeded.oci.digest}`]);
    // A pulled image goes with its tag: docker untags its digest reference too.
    expect(await cli.ok(["rmi", "busybox"])).toMatch(
      new RegExp(
        `^Untagged: busybox:latest\nUntagged: busybox@${seeded.oci.digest}\nDeleted: ${img.Id}\n`,
      ),
    );
    const { mkdir, writeFile } = await import("node:fs/promises");
    const own = join(await makeTempDir("strata-config-"), "strata");
    await mkdir(own, { recursive: true });
    await writeFile(
      join(own, "registries.json"),
      JSON.stringify({ "registry-mirrors": [`http://${registry.address}`] }),
    );
    const viaFile = await cli.run(["pull", "-q", "busybox:v2s2"], { env: { STRATA_CONFIG: own } });
    expect(viaFile.stdout).toBe("docker.io/library/busybox:v2s2\n");
  });

  it("fails with docker's words for an unknown tag, an unknown repository and no registry", async () => {
    const cli = await fresh();
    const tag = await cli.run(["pull", `${registry.address}/library/busybox:nope`]);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toBe(
      `Error: manifest for ${registry.address}/library/busybox:nope not found: manifest unknown: manifest unknown\n`,
    );
    const repo = await cli.run(["pull", `${registry.address}/no/such`]);
    expect(repo.code).toBe(1);
    expect(repo.stderr).toMatch(
      new RegExp(`^Error: manifest for ${registry.address}/no/such:latest not found: `),
    );
    const down = await cli.run(["pull", "127.0.0.1:1/library/busybox"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^Error: Get "https?:\/\/127\.0\.0\.1:1\/v2\/.*": .*(ECONNREFUSED|refused)/,
    );
    expect(await cli.ok(["images", "-q"])).toBe("");
  });
});
