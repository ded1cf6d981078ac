/**
 * End-to-end tests of `strata push` against the real registry: docker's output, layers
 * compressed once and skipped, mounted or uploaded, and interop: skopeo reads what strata
 * pushed and umoci unpacks it into the very files it came from.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { must, type RegistryServer, registryCli, startRegistry } from "./helpers/registry.js";
import { type SeededImages, seedImages } from "./helpers/registry-seed.js";
import { cleanupTempDirs, createStrata, makeTempDir, run } from "./helpers/strata.js";

let registry: RegistryServer;
let seeded: SeededImages;
let config: string;
let addr: string;

beforeAll(async () => {
  const work = await makeTempDir("strata-registry-");
  registry = await startRegistry(join(work, "registry"));
  addr = registry.address;
  seeded = await seedImages(addr, join(work, "seed"));
  config = join(work, "config");
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

async function fresh() {
  return registryCli(await createStrata({ driver: "vfs" }), config);
}

function inspect(stdout: string): Record<string, unknown> {
  return (JSON.parse(stdout) as Record<string, unknown>[])[0]!;
}

const short = (digest: string) => digest.slice(7, 19);

describe("strata push to a real registry", () => {
  it("pushes an imported image: gzipped once, then skipped, mounted, and read back by skopeo and umoci", async () => {
    const cli = await fresh();
    const id = (await cli.ok(["import", seeded.rootfsTar, `${addr}/pushed/busybox:v1`])).trim();
    const img = inspect(await cli.ok(["image", "inspect", id]));
    const diffId = (img.RootFS as { Layers: string[] }).Layers[0]!;

    const first = await cli.run(["push", `${addr}/pushed/busybox:v1`]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const m = /^v1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/m.exec(first.stdout);
    expect(m).not.toBeNull();
    const digest = m![1]!;
    expect(first.stdout).toBe(
      [
        `The push refers to repository [${addr}/pushed/busybox]`,
        `${short(diffId)}: Preparing`,
        `${short(diffId)}: Pushed`,
        `v1: digest: ${digest} size: ${m![2]}`,
        "",
      ].join("\n"),
    );

    // The registry serves it: skopeo reads the manifest and config strata wrote.
    const info = JSON.parse(
      await must("skopeo", ["inspect", "--tls-verify=false", `docker://${addr}/pushed/busybox:v1`]),
    ) as { Digest: string; Layers: string[] };
    expect(info.Digest).toBe(digest);
    const rawConfig = await must("skopeo", [
      "inspect",
      "--config",
      "--raw",
      "--tls-verify=false",
      `docker://${addr}/pushed/busybox:v1`,
    ]);
    const { createHash } = await import("node:crypto");
    expect(`sha256:${createHash("sha256").update(rawConfig).digest("hex")}`).toBe(id);
    // ... and umoci unpacks a skopeo copy of it into the files the image was made from.
    const out = await makeTempDir("strata-push-oci-");
    await must("skopeo", [
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      `docker://${addr}/pushed/busybox:v1`,
      `oci:${join(out, "oci")}:v1`,
    ]);
    await must("umoci", ["unpack", "--image", `${join(out, "oci")}:v1`, join(out, "bundle")]);
    const diff = await run("diff", [
      "-r",
      "--no-dereference",
      seeded.rootfsDir,
      join(out, "bundle/rootfs"),
    ]);
    expect(diff.stdout + diff.stderr).toBe("");
    expect(diff.code).toBe(0);

    // The same layer goes out with the same digest: a second push uploads nothing.
    const second = await cli.run(["push", `${addr}/pushed/busybox:v1`]);
    expect(second.stdout).toContain(`${short(diffId)}: Layer already exists\n`);
    expect(second.stdout).toContain(`v1: digest: ${digest} size:`);
    expect(inspect(await cli.ok(["image", "inspect", id])).RepoDigests).toEqual([
      `${addr}/pushed/busybox@${digest}`,
    ]);

    // Another repository of the same registry gets the layer by a cross-repository mount.
    await cli.ok(["tag", `${addr}/pushed/busybox:v1`, `${addr}/other/busybox:v1`]);
    const third = await cli.run(["push", `${addr}/other/busybox:v1`]);
    expect(third.stdout).toContain(`${short(diffId)}: Mounted from pushed/busybox\n`);
    expect(third.stdout).toContain(`v1: digest: ${digest} size:`);

    // A fresh store pulls it back as the same image.
    const other = await fresh();
    await other.ok(["pull", "-q", `${addr}/other/busybox:v1`]);
    expect(inspect(await other.ok(["image", "inspect", `${addr}/other/busybox:v1`])).Id).toBe(id);
    expect(
      await other.ok(["run", "--rm", `${addr}/other/busybox:v1`, "/bin/busybox", "echo", "ok"]),
    ).toBe("ok\n");
  });

  it("pushes a pulled image under another name with its manifest unchanged, mounting its layer", async () => {
    const cli = await fresh();
    await cli.ok(["pull", "-q", seeded.oci.ref]);
    await cli.ok(["tag", seeded.oci.ref, `${addr}/copy/busybox`]);
    const res = await cli.run(["push", `${addr}/copy/busybox`]);
    expect(res.code).toBe(0);
    const img = inspect(await cli.ok(["image", "inspect", seeded.oci.ref]));
    const diffId = (img.RootFS as { Layers: string[] }).Layers[0]!;
    expect(res.stdout).toBe(
      [
        "Using default tag: latest",
        `The push refers to repository [${addr}/copy/busybox]`,
        `${short(diffId)}: Preparing`,
        `${short(diffId)}: Mounted from library/busybox`,
        `latest: digest: ${seeded.oci.digest} size: ${(await must("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${seeded.oci.ref}`])).length}`,
        "",
      ].join("\n"),
    );
  });

  it("compresses with zstd on request into an OCI manifest that skopeo and a fresh pull read", async () => {
    const cli = await fresh();
    await cli.ok(["import", seeded.rootfsTar, `${addr}/zstd-push/busybox:v1`]);
    const res = await cli.run(["push", "--compression", "zstd", `${addr}/zstd-push/busybox:v1`]);
    expect(res.code).toBe(0);
    const raw = JSON.parse(
      await must("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${addr}/zstd-push/busybox:v1`,
      ]),
    ) as { mediaType: string; layers: { mediaType: string }[] };
    expect(raw.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(raw.layers.map((l) => l.mediaType)).toEqual([
      "application/vnd.oci.image.layer.v1.tar+zstd",
    ]);
    const again = await cli.run(["push", "--compression", "zstd", `${addr}/zstd-push/busybox:v1`]);
    expect(again.stdout).toContain(": Layer already exists\n");
    const other = await fresh();
    await other.ok(["pull", "-q", `${addr}/zstd-push/busybox:v1`]);
    expect(
      await other.ok(["run", "--rm", `${addr}/zstd-push/busybox:v1`, "/bin/busybox", "echo", "z"]),
    ).toBe("z\n");
    expect(
      (await cli.run(["push", "--compression", "xz", `${addr}/zstd-push/busybox:v1`])).code,
    ).toBe(125);
  });

  it("pushes every local tag with -a, prints references with -q, and refuses what is not there", async () => {
    const cli = await fresh();
    await cli.ok(["import", seeded.rootfsTar, `${addr}/tags/busybox:one`]);
    await cli.ok(["tag", `${addr}/tags/busybox:one`, `${addr}/tags/busybox:two`]);
    const all = await cli.run(["push", "-a", `${addr}/tags/busybox`]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^one: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    expect(all.stdout).toMatch(/^two: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    const tags = JSON.parse(
      await must("skopeo", ["list-tags", "--tls-verify=false", `docker://${addr}/tags/busybox`]),
    ) as { Tags: string[] };
    expect(tags.Tags.sort()).toEqual(["one", "two"]);
    expect(await cli.ok(["push", "-q", `${addr}/tags/busybox:one`])).toBe(
      `${addr}/tags/busybox:one\n`,
    );
    const missing = await cli.run(["push", `${addr}/none/here:v1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `Error: An image does not exist locally with the tag: ${addr}/none/here\n`,
    );
  });
});
