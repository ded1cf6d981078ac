/**
 * End-to-end tests of `save` and `load`: the archive layout docker 25+ writes, round trips
 * into fresh stores, docker's output, terminals and progress, and flat memory for a large
 * image. Interop with skopeo and umoci is in save-load-interop.test.ts, hostile archives
 * in load-hostile.test.ts.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArchive, sha256, storeState } from "./helpers/archives.js";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  run,
  type StrataCli,
  strataBin,
} from "./helpers/strata.js";

let tmp: string;
let busyboxTar: string;
let cli: StrataCli;
let busyboxId: string;
let otherId: string;

/** `strata <globals> args > file` through a shell, so binary output stays binary. */
async function saveToStdout(s: StrataCli, file: string, ...args: string[]): Promise<void> {
  const quoted = [process.execPath, strataBin, ...s.globalArgs, "save", ...args]
    .map((a) => `'${a}'`)
    .join(" ");
  const r = await run("bash", ["-c", `${quoted} > '${file}'`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

/** `images --digests` rows without the CREATED column (relative to now). */
async function imageRows(s: StrataCli): Promise<string[][]> {
  const lines = (await s.ok("images", "--digests", "--no-trunc")).trim().split("\n").slice(1);
  return lines.map((l) => l.split(/\s{2,}/)).map((c) => [c[0]!, c[1]!, c[2]!, c[3]!, c[5]!]);
}

beforeAll(async () => {
  tmp = await makeTempDir();
  busyboxTar = await makeBusyboxRootfs(tmp);
  cli = await createStrata({ driver: "vfs" });
  busyboxId = (await cli.ok("import", "-c", 'CMD ["sh"]', busyboxTar, "busybox:latest")).trim();
  await cli.ok("tag", "busybox:latest", "busybox:1.36");
  await cli.ok("tag", "busybox:latest", "mybox:v1");
  await writeFile(join(tmp, "hello"), "hello\n");
  const r = await run("tar", ["-cf", join(tmp, "other.tar"), "-C", tmp, "hello"]);
  expect(r.code).toBe(0);
  otherId = (await cli.ok("import", join(tmp, "other.tar"), "other:1")).trim();
});
afterAll(cleanupTempDirs);

describe("save", () => {
  it("writes docker 25+'s archive: an OCI layout with manifest.json and repositories", async () => {
    const out = join(tmp, "two.tar");
    expect(await cli.ok("save", "-o", out, "busybox", "other:1")).toBe("");
    const entries = await readArchive(await readFile(out));
    const names = entries.map((e) => e.name);
    expect(names.slice(0, 2)).toEqual(["blobs/", "blobs/sha256/"]);
    expect(names.slice(-4)).toEqual(["index.json", "manifest.json", "oci-layout", "repositories"]);
    const file = (n: string) => entries.find((e) => e.name === n)!.body;
    const blobs = entries.filter((e) => e.name.startsWith("blobs/sha256/") && e.type === "file");
    // Every blob is content-addressed, and the layer is the stored blob itself.
    for (const b of blobs) expect(sha256(b.body)).toBe(`sha256:${b.name.slice(13)}`);
    expect(file("oci-layout").toString()).toBe('{"imageLayoutVersion": "1.0.0"}');

    const manifest = JSON.parse(file("manifest.json").toString());
    expect(manifest).toHaveLength(2);
    const [bb, other] = manifest;
    expect(bb.Config).toBe(`blobs/sha256/${busyboxId.slice(7)}`);
    expect(bb.RepoTags).toEqual(["busybox:1.36", "busybox:latest"]);
    expect(other).toMatchObject({
      Config: `blobs/sha256/${otherId.slice(7)}`,
      RepoTags: ["other:1"],
    });
    for (const l of [...bb.Layers, ...other.Layers]) expect(names).toContain(l);

    const index = JSON.parse(file("index.json").toString());
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const refs = index.manifests.map((m: { annotations: Record<string, string> }) => [
      m.annotations["io.containerd.image.name"],
      m.annotations["org.opencontainers.image.ref.name"],
    ]);
    expect(refs).toEqual([
      ["docker.io/library/busybox:1.36", "1.36"],
      ["docker.io/library/busybox:latest", "latest"],
      ["docker.io/library/other:1", "1"],
    ]);
    // The OCI manifests name the same config and layer blobs as manifest.json.
    const m = JSON.parse(file(`blobs/sha256/${index.manifests[0].digest.slice(7)}`).toString());
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.config.digest).toBe(busyboxId);
    expect(m.layers.map((l: { digest: string }) => `blobs/sha256/${l.digest.slice(7)}`)).toEqual(
      bb.Layers,
    );
    const repos = JSON.parse(file("repositories").toString());
    expect(Object.keys(repos)).toEqual(["busybox", "other"]);
    expect(Object.keys(repos.busybox)).toEqual(["1.36", "latest"]);
  });

  it("streams to stdout when no -o is given, the same bytes as with -o", async () => {
    const a = join(tmp, "a.tar");
    const b = join(tmp, "b.tar");
    await cli.ok("save", "-o", a, "busybox:latest");
    await saveToStdout(cli, b, "busybox:latest");
    expect(sha256(await readFile(b))).toBe(sha256(await readFile(a)));
  });

  it("refuses to write an archive to a terminal, as docker does", async () => {
    const cmd = [process.execPath, strataBin, ...cli.globalArgs, "save", "busybox"].join(" ");
    const r = await run("script", ["-qec", cmd, "/dev/null"]);
    expect(r.stdout).toContain(
      "cowardly refusing to save to a terminal. Use the -o flag or redirect",
    );
    expect(r.code).toBe(1);
  });

  it("fails on an unknown image before writing anything", async () => {
    const dir = await makeTempDir();
    const r = await cli.run("save", "-o", join(dir, "x.tar"), "busybox", "nosuch:1");
    expect(r.stderr).toBe("Error: No such image: nosuch:1\n");
    expect(r.code).toBe(1);
    expect(await readdir(dir)).toEqual([]);
    const bad = await cli.run("save", "-o", join(dir, "missing/x.tar"), "busybox");
    expect(bad.stderr).toMatch(/invalid output path: directory ".*missing" does not exist/);
  });

  it("saves an image named by ID untagged", async () => {
    const out = join(tmp, "by-id.tar");
    await cli.ok("save", "-o", out, busyboxId.slice(7, 19));
    const entries = await readArchive(await readFile(out));
    const manifest = JSON.parse(entries.find((e) => e.name === "manifest.json")!.body.toString());
    expect(manifest).toEqual([expect.objectContaining({ RepoTags: null })]);
    expect(entries.map((e) => e.name)).not.toContain("repositories");
  });
});

describe("load", () => {
  beforeAll(async () => {
    // The archives these tests read (the save tests above write the same bytes).
    await cli.ok("save", "-o", join(tmp, "a.tar"), "busybox:latest");
    await cli.ok("save", "-o", join(tmp, "all.tar"), "busybox", "mybox:v1", "other:1");
    await cli.ok("save", "-o", join(tmp, "by-id.tar"), busyboxId.slice(7, 19));
  });

  it("round-trips into a fresh store with the same IDs, tags, digests and inspect", async () => {
    const out = join(tmp, "all.tar");
    await cli.ok("save", "-o", out, "busybox", "mybox:v1", "other:1");
    const fresh = await createStrata({ driver: "vfs" });
    const r = await fresh.run("load", "-i", out);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "Loaded image: busybox:1.36\nLoaded image: busybox:latest\nLoaded image: mybox:v1\n" +
        "Loaded image: other:1\n",
    );
    expect(await imageRows(fresh)).toEqual(await imageRows(cli));
    for (const name of ["busybox:latest", "other:1"]) {
      const strip = (s: string) => {
        const [img] = JSON.parse(s);
        delete img.Metadata;
        return img;
      };
      expect(strip(await fresh.ok("inspect", name))).toEqual(strip(await cli.ok("inspect", name)));
    }
    // And saving again from the fresh store gives the very same archive.
    const again = join(tmp, "all-again.tar");
    await fresh.ok("save", "-o", again, "busybox", "mybox:v1", "other:1");
    expect(sha256(await readFile(again))).toBe(sha256(await readFile(out)));
  });

  it("reads stdin, compressed archives (gzip, zstd, bzip2, xz), and -q", async () => {
    const raw = await readFile(join(tmp, "a.tar"));
    const fresh = await createStrata({ driver: "vfs" });
    const r = await fresh.run(["load", "-q"], { input: gzipSync(raw) });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Loaded image: busybox:latest\n");
    expect(await fresh.ok("images", "-q", "--no-trunc")).toBe(`${busyboxId}\n`);
    // docker also takes zstd, bzip2 and xz archives.
    for (const tool of ["zstd", "bzip2", "xz"]) {
      const file = join(tmp, `a.tar.${tool}`);
      expect(
        (await run("bash", ["-c", `${tool} -c '${join(tmp, "a.tar")}' > '${file}'`])).code,
      ).toBe(0);
      const other = await createStrata({ driver: "vfs" });
      expect(await other.ok("load", "-i", file)).toBe("Loaded image: busybox:latest\n");
    }
  });

  it("refuses to read an archive from a terminal, as docker does", async () => {
    const cmd = [process.execPath, strataBin, ...cli.globalArgs, "load"].join(" ");
    const r = await run("script", ["-qec", cmd, "/dev/null"]);
    expect(r.stdout).toContain("requested load from stdin, but stdin is empty");
    expect(r.code).toBe(1);
  });

  it("prints Loaded image ID for an untagged image", async () => {
    const fresh = await createStrata({ driver: "vfs" });
    expect(await fresh.ok("load", "-i", join(tmp, "by-id.tar"))).toBe(
      `Loaded image ID: ${busyboxId}\n`,
    );
  });

  it("does not write layers the store already has, and reports a moved tag", async () => {
    const fresh = await createStrata({ driver: "vfs" });
    await fresh.ok("load", "-i", join(tmp, "all.tar"));
    const [img] = JSON.parse(await fresh.ok("inspect", "busybox:latest"));
    const layers: string[] = img.RootFS.Layers; // uncompressed: blob digest = diff ID
    const inodes = () =>
      Promise.all(
        layers.map(
          async (d) => (await stat(join(fresh.root, "content/blobs/sha256", d.slice(7)))).ino,
        ),
      );
    const before = await inodes();
    await fresh.ok("tag", "other:1", "busybox:latest");
    const r = await fresh.run("load", "-i", join(tmp, "a.tar"));
    expect(r.stdout).toBe(
      `The image busybox:latest already exists, renaming the old one with ID ${otherId} to empty string\nLoaded image: busybox:latest\n`,
    );
    expect(await inodes()).toEqual(before);
    expect((await storeState(fresh)).ingest).toEqual([]);
  });
});

describe("large images", () => {
  let bigTar: string;
  let big: StrataCli;

  beforeAll(async () => {
    const dir = await makeTempDir();
    const r = await run("bash", [
      "-c",
      `mkdir -p '${dir}/rootfs' && head -c 256M /dev/urandom > '${dir}/rootfs/blob' && tar -cf '${dir}/rootfs.tar' -C '${dir}/rootfs' .`,
    ]);
    expect(r.code).toBe(0);
    big = await createStrata({ driver: "vfs" });
    await big.ok("import", join(dir, "rootfs.tar"), "big:1");
    bigTar = join(dir, "big.tar");
    await big.ok("save", "-o", bigTar, "big:1");
  });

  /** Peak RSS in KiB of `strata args`, from GNU time. */
  async function peakRss(s: StrataCli, args: string[]): Promise<number> {
    const r = await run("/usr/bin/time", [
      "-f",
      "%M",
      process.execPath,
      strataBin,
      ...s.globalArgs,
      ...args,
    ]);
    expect(r.code, r.stderr).toBe(0);
    return Number(r.stderr.trim().split("\n").pop());
  }

  it("saves and loads a 256 MiB image with peak RSS far below its size", async () => {
    // What the process needs to start and list images: the baseline the bound sits on.
    const baseline = await peakRss(big, ["images"]);
    const saveRss = await peakRss(big, ["save", "-o", bigTar, "big:1"]);
    expect((await stat(bigTar)).size).toBeGreaterThan(256 * 1024 * 1024);
    const fresh = await createStrata({ driver: "vfs" });
    const loadRss = await peakRss(fresh, ["load", "-i", bigTar]);
    // Streaming adds a few MiB of buffers over the baseline, never the image.
    expect(saveRss - baseline).toBeLessThan(64 * 1024);
    expect(loadRss - baseline).toBeLessThan(64 * 1024);
    expect(Math.max(saveRss, loadRss)).toBeLessThan(200 * 1024);
    expect(await fresh.ok("images", "-q", "--no-trunc")).toBe(
      await big.ok("images", "-q", "--no-trunc"),
    );
  });

  it("stops cleanly on Ctrl-C: exit 130, nothing published, nothing left in ingest", async () => {
    const fresh = await createStrata({ driver: "vfs" });
    const child = spawn(process.execPath, [strataBin, ...fresh.globalArgs, "load"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    // Half the archive, then silence: the load is mid-layer, waiting for more.
    const data = await readFile(bigTar);
    child.stdin.on("error", () => {}); // EPIPE once it has gone
    child.stdin.write(data.subarray(0, data.length >> 1));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    // Wait until the layer is being spooled into ingest.
    const ingest = join(fresh.root, "content/ingest");
    for (let i = 0; i < 600 && (await readdir(ingest).catch(() => [])).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await readdir(ingest)).toHaveLength(1);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    child.stdin.destroy();
    expect(await storeState(fresh)).toEqual({ blobs: [], ingest: [], images: {} });
  });

  it("shows docker's per-layer progress on a terminal, and nothing extra otherwise", async () => {
    const fresh = await createStrata({ driver: "vfs" });
    const cmd = [process.execPath, strataBin, ...fresh.globalArgs, "load", "-i", bigTar].join(" ");
    const r = await run("script", ["-qec", cmd, "/dev/null"], { env: { COLUMNS: "200" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/[a-f0-9]{12}: Loading layer \[=+>\] +268\.\dMB\/268\.\dMB\r?\n/);
    expect(r.stdout).toMatch(/Loaded image: big:1/);
    const quiet = await createStrata({ driver: "vfs" });
    expect(await quiet.ok("load", "-i", bigTar)).toBe("Loaded image: big:1\n");
  });
});
