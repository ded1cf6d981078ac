/**
 * End-to-end tests of what a pull does when things go wrong, against the real registry:
 * a tampered layer or manifest in the registry's storage is refused and nothing of it is
 * stored; a connection cut mid-layer resumes; Ctrl-C leaves no partial blob visible and
 * keeps the layers that completed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RegistryServer, registryCli, startRegistry, tamper } from "./helpers/registry.js";
import { type SeededImage, seedBigImage, seedImages } from "./helpers/registry-seed.js";
import { cleanupTempDirs, createStrata, makeTempDir, run, strataBin } from "./helpers/strata.js";
import { startProxy } from "./helpers/tcp-proxy.js";

let registry: RegistryServer;
let big: SeededImage;
let config: string;
const BIG_BYTES = 24 * 1024 * 1024;

beforeAll(async () => {
  const work = await makeTempDir("strata-registry-");
  registry = await startRegistry(join(work, "registry"));
  big = await seedBigImage(registry.address, join(work, "seed"), BIG_BYTES);
  config = join(work, "config");
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

async function fresh() {
  return registryCli(await createStrata({ driver: "vfs" }), config);
}

const short = (digest: string) => digest.slice(7, 19);

async function blobNames(root: string): Promise<string[]> {
  return (await readdir(join(root, "content/blobs/sha256")).catch(() => [] as string[])).map(
    (n) => `sha256:${n}`,
  );
}

async function ingest(root: string): Promise<string[]> {
  return readdir(join(root, "content/ingest")).catch(() => [] as string[]);
}

describe("pull integrity", () => {
  it("refuses a layer whose bytes were changed in the registry, storing nothing of it", async () => {
    const work = await makeTempDir("strata-tamper-");
    const own = await startRegistry(join(work, "registry"));
    try {
      const images = await seedImages(own.address, join(work, "seed"));
      await tamper(own.blobPath(images.oci.layers[0]!), 1000);
      const cli = await fresh();
      const res = await cli.run(["pull", images.oci.ref]);
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(
        `Error: filesystem layer verification failed for digest ${images.oci.layers[0]}\n`,
      );
      expect(await blobNames(cli.root)).not.toContain(images.oci.layers[0]);
      expect(await ingest(cli.root)).toEqual([]);
      expect(await cli.ok(["images", "-q"])).toBe("");

      // A manifest changed in storage no longer matches the digest its tag names.
      const manifest = own.blobPath(images.v2s2.digest);
      const text = await readFile(manifest, "utf8");
      await writeFile(
        manifest,
        text.replace(/"size":\s*(\d+)/, (_, n) => `"size": ${Number(n) + 1}`),
      );
      const res2 = await cli.run(["pull", images.v2s2.ref]);
      expect(res2.code).toBe(1);
      expect(res2.stderr).toMatch(/^Error: manifest .*digest mismatch/);
      expect(await blobNames(cli.root)).not.toContain(images.v2s2.digest);
      expect(await cli.ok(["images", "-q"])).toBe("");
    } finally {
      await own.stop();
    }
  });

  it("resumes a layer when the connection drops in the middle, and the result is right", async () => {
    const proxy = await startProxy(registry.address, { cutAfterBytes: 5 * 1024 * 1024 });
    try {
      const cli = await fresh();
      const ref = big.ref.replace(registry.address, proxy.address);
      const res = await cli.run(["pull", ref]);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      expect(proxy.cuts).toBe(1);
      expect(res.stdout).toContain(`${short(big.layers[1]!)}: Retrying in 1 second`);
      expect(res.stdout).toContain(`${short(big.layers[1]!)}: Pull complete\n`);
      const data = await readFile(join(cli.root, "content/blobs/sha256", big.layers[1]!.slice(7)));
      expect(`sha256:${createHash("sha256").update(data).digest("hex")}`).toBe(big.layers[1]);
      expect(await ingest(cli.root)).toEqual([]);
      const img = JSON.parse(await cli.ok(["image", "inspect", ref])) as { Id: string }[];
      expect(img[0]!.Id).toBe(big.config);
    } finally {
      await proxy.close();
    }
  });

  it("redraws each layer's line with its byte counts on a terminal", async () => {
    const proxy = await startProxy(registry.address, { bytesPerSecond: 16 * 1024 * 1024 });
    try {
      const cli = await fresh();
      const ref = big.ref.replace(registry.address, proxy.address);
      const command = [process.execPath, strataBin, "--root", cli.root, "-s", "vfs", "pull", ref]
        .map((a) => `'${a}'`)
        .join(" ");
      // script(1) gives the command a pseudo-terminal, as a user's shell would.
      const res = await run("script", ["-qefc", `stty cols 120; ${command}`, "/dev/null"], {
        env: cli.env,
      });
      expect(res.code).toBe(0);
      const id = short(big.layers[1]!);
      const drawn = res.stdout
        .split("\x1b[2K\r")
        .filter((l) => l.startsWith(`${id}: Downloading [`));
      expect(drawn.length).toBeGreaterThan(1);
      for (const line of drawn) {
        expect(line.split("\x1b[")[0]).toMatch(
          /^[0-9a-f]{12}: Downloading \[=*>? *\] +[0-9.]+[kM]?B\/25\.17MB\r$/,
        );
      }
      expect(res.stdout).toContain(`\x1b[2K\r${id}: Pull complete\r`);
      expect(res.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
    } finally {
      await proxy.close();
    }
  });

  it("on Ctrl-C leaves no partial blob visible and keeps the layers that completed", async () => {
    const proxy = await startProxy(registry.address, { bytesPerSecond: 3 * 1024 * 1024 });
    try {
      const cli = await fresh();
      const ref = big.ref.replace(registry.address, proxy.address);
      const [small, large] = [big.layers[0]!, big.layers[1]!];
      const child = spawn(
        process.execPath,
        [strataBin, "--root", cli.root, "-s", "vfs", "pull", ref],
        {
          env: { ...process.env, ...cli.env },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const interrupted = new Promise<void>((resolve) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes(`${short(small)}: Download complete`)) resolve();
        });
      });
      const exited = new Promise<number | null>((resolve) =>
        child.on("close", (code) => resolve(code)),
      );
      await Promise.race([interrupted, exited]);
      // Give the big layer time to have written some bytes to its temporary file.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await ingest(cli.root)).length).toBeGreaterThan(0);
      child.kill("SIGINT");
      const code = await exited;
      expect(stderr).toBe("");
      expect(code).toBe(130);
      expect(stdout).not.toContain(`${short(large)}: Download complete`);
      const blobs = await blobNames(cli.root);
      expect(blobs).toContain(small);
      expect(blobs).not.toContain(large);
      expect(await ingest(cli.root)).toEqual([]);
      expect(await cli.ok(["images", "-q"])).toBe("");

      // Pulling again downloads only what is missing.
      const again = await cli.run(["pull", big.ref]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`${short(small)}: Already exists\n`);
      expect(again.stdout).toContain(`${short(large)}: Pull complete\n`);
    } finally {
      await proxy.close();
    }
  });
});
