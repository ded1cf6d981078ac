/**
 * `save` and `load` of pulled images: their registry manifests (OCI, docker schema 2, and
 * the platform manifest of an index) travel byte for byte, and their registry digests with
 * them, so a round trip into a fresh store shows the same `images --digests` and inspect.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Descriptor } from "@strata/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArchive } from "./helpers/archives.js";
import { type RegistryServer, startRegistry } from "./helpers/registry.js";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  run,
  type StrataCli,
} from "./helpers/strata.js";

let registry: RegistryServer;
let cli: StrataCli;
let names: string[];
const pushed: Record<string, string> = {};

async function ok(command: string, ...args: string[]): Promise<string> {
  const r = await run(command, args);
  expect(r.code, `${command} ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  const dir = await makeTempDir();
  registry = await startRegistry(join(dir, "registry"));
  // The busybox image built with umoci, pushed by skopeo as OCI and as docker schema 2,
  // and a two-platform index of it (the same image under amd64 and arm64).
  const busyboxTar = await makeBusyboxRootfs(dir);
  const layout = join(dir, "layout");
  const bundle = join(dir, "bundle");
  await ok("umoci", "init", "--layout", layout);
  await ok("umoci", "new", "--image", `${layout}:latest`);
  await ok("umoci", "unpack", "--image", `${layout}:latest`, bundle);
  await ok("tar", "-xpf", busyboxTar, "-C", join(bundle, "rootfs"));
  await ok("umoci", "repack", "--image", `${layout}:latest`, bundle);
  await ok(
    "umoci",
    "config",
    "--image",
    `${layout}:latest`,
    "--os",
    "linux",
    "--architecture",
    "amd64",
  );
  const a = registry.address;
  names = [`${a}/library/busybox:latest`, `${a}/library/busybox:v2s2`];
  const push = (dest: string, ...flags: string[]) =>
    ok(
      "skopeo",
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      ...flags,
      `oci:${layout}:latest`,
      `docker://${dest}`,
    );
  await push(names[0]!, "--preserve-digests");
  await push(names[1]!, "--format", "v2s2");
  // The index: the amd64 manifest and an arm64 twin (umoci config --tag), side by side.
  await ok(
    "umoci",
    "config",
    "--image",
    `${layout}:latest`,
    "--architecture",
    "arm64",
    "--tag",
    "arm",
  );
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
  const entry = (tag: string) =>
    index.manifests.find(
      (m: Descriptor) => m.annotations?.["org.opencontainers.image.ref.name"] === tag,
    );
  const multi = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          ...entry("latest"),
          annotations: undefined,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          ...entry("arm"),
          annotations: undefined,
          platform: { os: "linux", architecture: "arm64" },
        },
      ],
    }),
  );
  const multiDigest = `sha256:${createHash("sha256").update(multi).digest("hex")}`;
  await writeFile(join(layout, "blobs/sha256", multiDigest.slice(7)), multi);
  index.manifests.push({
    mediaType: "application/vnd.oci.image.index.v1+json",
    digest: multiDigest,
    size: multi.length,
    annotations: { "org.opencontainers.image.ref.name": "multi" },
  });
  await writeFile(join(layout, "index.json"), JSON.stringify(index));
  names.push(`${a}/library/multi:latest`);
  await ok(
    "skopeo",
    "copy",
    "--quiet",
    "--all",
    "--preserve-digests",
    "--dest-tls-verify=false",
    `oci:${layout}:multi`,
    `docker://${names[2]}`,
  );
  for (const name of names) {
    pushed[name] = JSON.parse(
      await ok("skopeo", "inspect", "--tls-verify=false", `docker://${name}`),
    ).Digest;
  }
  cli = await createStrata({ driver: "vfs" });
  for (const name of names) {
    const r = await cli.run("--insecure-registry", a, "pull", "-q", name);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

describe("save and load of pulled images", () => {
  it("keeps registry manifests and digests through a round trip", async () => {
    const out = join(await makeTempDir(), "pulled.tar");
    await cli.ok("save", "-o", out, ...names);
    const entries = await readArchive(await readFile(out));
    const index = JSON.parse(entries.find((e) => e.name === "index.json")!.body.toString());
    const digests = index.manifests.map((m: { digest: string }) => m.digest);
    // Each manifest (or index) as the registry serves it.
    for (const name of names) expect(digests).toContain(pushed[name]);
    const fresh = await createStrata({ driver: "vfs" });
    await fresh.ok("load", "-i", out);
    const rows = async (s: StrataCli) =>
      (await s.ok("images", "--digests", "--no-trunc"))
        .trim()
        .split("\n")
        // Without CREATED (relative) and SIZE (see below).
        .map((l) => l.split(/\s{2,}/).slice(0, 4));
    expect(await rows(fresh)).toEqual(await rows(cli));
    for (const name of names) {
      const strip = (s: string) => {
        const [img] = JSON.parse(s);
        delete img.Metadata;
        // A pull records each layer's uncompressed tar size as a fast hint; a load counts
        // the files' bytes, as import does and docker's layer store does.
        delete img.Size;
        return img;
      };
      const [a, b] = [strip(await fresh.ok("inspect", name)), strip(await cli.ok("inspect", name))];
      expect(a).toEqual(b);
      expect(a.RepoDigests).toContain(`${name.replace(/:[^:/]+$/, "")}@${pushed[name]}`);
    }
  });
});
