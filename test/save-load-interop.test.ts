/**
 * Interop of `save` and `load` with the real tools: what strata saves, skopeo and umoci
 * read (as `docker-archive:` and, extracted, as an OCI layout); what skopeo and umoci
 * write (docker archives, OCI layouts, OCI archives), strata loads with the same image IDs;
 * and the docker ≤ 24 archive format, built here from its pieces.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { craftTar, describeTree, readArchive, sha256 } from "./helpers/archives.js";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  type RunResult,
  run,
  type StrataCli,
} from "./helpers/strata.js";

let tmp: string;
let busyboxTar: string;
let rootfsDir: string;
let cli: StrataCli;
let busyboxId: string;

async function ok(command: string, ...args: string[]): Promise<RunResult> {
  const r = await run(command, args);
  expect(r.code, `${command} ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r;
}

/** The image's files as umoci unpacks them from `layout:tag`. */
async function umociTree(layoutAndTag: string): Promise<Record<string, unknown>> {
  const bundle = join(await makeTempDir(), "bundle");
  await ok("umoci", "unpack", "--image", layoutAndTag, bundle);
  return describeTree(join(bundle, "rootfs"));
}

beforeAll(async () => {
  tmp = await makeTempDir();
  busyboxTar = await makeBusyboxRootfs(tmp);
  rootfsDir = join(tmp, "rootfs");
  await mkdir(rootfsDir);
  await ok("tar", "-xpf", busyboxTar, "-C", rootfsDir);
  expect(Object.keys(await describeTree(rootfsDir))).toContain("bin/busybox");
  cli = await createStrata({ driver: "vfs" });
  busyboxId = (await cli.ok("import", "-c", 'CMD ["sh"]', busyboxTar, "busybox:latest")).trim();
});
afterAll(cleanupTempDirs);

describe("what strata saves, skopeo and umoci read", () => {
  let archive: string;

  beforeAll(async () => {
    archive = join(tmp, "strata.tar");
    await cli.ok("save", "-o", archive, "busybox:latest");
  });

  it("skopeo inspects it and copies it to an OCI layout that umoci unpacks to the same files", async () => {
    const inspect = JSON.parse((await ok("skopeo", "inspect", `docker-archive:${archive}`)).stdout);
    expect(inspect).toMatchObject({ Architecture: "amd64", Os: "linux" });
    const raw = JSON.parse(
      (await ok("skopeo", "inspect", "--raw", `docker-archive:${archive}`)).stdout,
    );
    expect(raw.config.digest).toBe(busyboxId);
    const oci = join(await makeTempDir(), "oci");
    await ok("skopeo", "copy", `docker-archive:${archive}`, `oci:${oci}:busybox`);
    expect(await umociTree(`${oci}:busybox`)).toEqual(await describeTree(rootfsDir));
  });

  it("extracted, it is an OCI layout that skopeo copies and umoci unpacks", async () => {
    const dir = join(await makeTempDir(), "layout");
    await mkdir(dir);
    await ok("tar", "-xf", archive, "-C", dir);
    const copy = join(await makeTempDir(), "copy");
    await ok("skopeo", "copy", `oci:${dir}:latest`, `oci:${copy}:latest`);
    expect(await umociTree(`${dir}:latest`)).toEqual(await describeTree(rootfsDir));
    const cfg = JSON.parse((await ok("skopeo", "inspect", "--config", `oci:${dir}:latest`)).stdout);
    expect(cfg.config.Cmd).toEqual(["sh"]);
  });
});

describe("what skopeo and umoci write, strata loads", () => {
  let layout: string;
  let umociId: string;
  let umociManifest: string;

  beforeAll(async () => {
    // An OCI image built with umoci from the busybox root filesystem (gzip layer).
    const dir = await makeTempDir();
    layout = join(dir, "layout");
    const bundle = join(dir, "bundle");
    await ok("umoci", "init", "--layout", layout);
    await ok("umoci", "new", "--image", `${layout}:latest`);
    await ok("umoci", "unpack", "--image", `${layout}:latest`, bundle);
    await ok("tar", "-xpf", busyboxTar, "-C", join(bundle, "rootfs"));
    await ok("umoci", "repack", "--image", `${layout}:latest`, bundle);
    await ok("umoci", "config", "--image", `${layout}:latest`, "--config.cmd", "/bin/sh");
    const raw = JSON.parse((await ok("skopeo", "inspect", "--raw", `oci:${layout}:latest`)).stdout);
    umociId = raw.config.digest;
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
    umociManifest = index.manifests[0].digest;
  });

  it("loads skopeo's docker-archive with the image ID skopeo reports", async () => {
    const out = join(tmp, "skopeo.tar");
    await ok("skopeo", "copy", `oci:${layout}:latest`, `docker-archive:${out}:busybox:umoci`);
    const raw = JSON.parse(
      (await ok("skopeo", "inspect", "--raw", `docker-archive:${out}`)).stdout,
    );
    expect(raw.config.digest).toBe(umociId);
    const fresh = await createStrata({ driver: "vfs" });
    expect(await fresh.ok("load", "-i", out)).toBe("Loaded image: busybox:umoci\n");
    expect(await fresh.ok("images", "-q", "--no-trunc")).toBe(`${umociId}\n`);
    // The layer is the one skopeo wrote (reached through its legacy <id>/layer.tar symlink).
    const [img] = JSON.parse(await fresh.ok("inspect", "busybox:umoci"));
    expect(img.RootFS.Layers).toEqual(raw.layers.map((l: { digest: string }) => l.digest));
  });

  it("loads an OCI layout archive: untagged for a bare ref name, gzip layers verified", async () => {
    const out = join(tmp, "oci-layout.tar");
    await ok("tar", "-C", layout, "-cf", out, ".");
    const fresh = await createStrata({ driver: "vfs" });
    expect(await fresh.ok("load", "-i", out)).toBe(`Loaded image ID: ${umociId}\n`);
  });

  it("loads skopeo's oci-archive by its name, keeps the manifest and saves it unchanged", async () => {
    const out = join(tmp, "oci-archive.tar");
    await ok("skopeo", "copy", `oci:${layout}:latest`, `oci-archive:${out}:busybox:oci`);
    const fresh = await createStrata({ driver: "vfs" });
    expect(await fresh.ok("load", "-i", out)).toBe("Loaded image: busybox:oci\n");
    expect(await fresh.ok("images", "-q", "--no-trunc")).toBe(`${umociId}\n`);
    // Saved again, the OCI manifest (and so its digest) is the one umoci made.
    const saved = join(tmp, "resaved.tar");
    await fresh.ok("save", "-o", saved, "busybox:oci");
    const entries = await readArchive(await readFile(saved));
    const index = JSON.parse(entries.find((e) => e.name === "index.json")!.body.toString());
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([umociManifest]);
    const dir = join(await makeTempDir(), "layout");
    await mkdir(dir);
    await ok("tar", "-xf", saved, "-C", dir);
    expect(await umociTree(`${dir}:oci`)).toEqual(await describeTree(rootfsDir));
  });
});

describe("docker ≤ 24 archives", () => {
  it("loads <id>/layer.tar archives, with a duplicate layer as a symlink", async () => {
    const layer = await readFile(busyboxTar);
    const diffId = sha256(layer);
    const extra = await craftTar([{ name: "etc/motd", body: "legacy\n" }]);
    const extraId = sha256(extra);
    const config = (diffIds: string[], cmd: string) =>
      Buffer.from(
        JSON.stringify({
          architecture: "amd64",
          os: "linux",
          created: "2020-01-01T00:00:00Z",
          config: { Cmd: [cmd] },
          rootfs: { type: "layers", diff_ids: diffIds },
          history: diffIds.map(() => ({ created: "2020-01-01T00:00:00Z" })),
        }),
      );
    const c1 = config([diffId], "sh");
    const c2 = config([diffId, extraId], "ls");
    const v1a = "a".repeat(64);
    const v1b = "b".repeat(64);
    const v1c = "c".repeat(64);
    const archive = await craftTar([
      { name: `${v1a}/`, type: "dir" },
      { name: `${v1a}/VERSION`, body: "1.0" },
      { name: `${v1a}/json`, body: JSON.stringify({ id: v1a }) },
      { name: `${v1a}/layer.tar`, body: layer },
      { name: `${v1b}/VERSION`, body: "1.0" },
      { name: `${v1b}/layer.tar`, type: "symlink", linkname: `../${v1a}/layer.tar` },
      { name: `${v1c}/layer.tar`, body: extra },
      { name: `${sha256(c1).slice(7)}.json`, body: c1 },
      { name: `${sha256(c2).slice(7)}.json`, body: c2 },
      {
        name: "manifest.json",
        body: JSON.stringify([
          {
            Config: `${sha256(c1).slice(7)}.json`,
            RepoTags: ["legacy:1"],
            Layers: [`${v1a}/layer.tar`],
          },
          {
            Config: `${sha256(c2).slice(7)}.json`,
            RepoTags: ["legacy:2", "example.com/team/legacy:2"],
            Layers: [`${v1b}/layer.tar`, `${v1c}/layer.tar`],
          },
        ]),
      },
      { name: "repositories", body: JSON.stringify({ legacy: { "1": v1a, "2": v1c } }) },
    ]);
    const file = join(tmp, "legacy.tar");
    await writeFile(file, archive);
    const fresh = await createStrata({ driver: "vfs" });
    expect(await fresh.ok("load", "-i", file)).toBe(
      "Loaded image: legacy:1\nLoaded image: legacy:2\nLoaded image: example.com/team/legacy:2\n",
    );
    const [one] = JSON.parse(await fresh.ok("inspect", "legacy:1"));
    const [two] = JSON.parse(await fresh.ok("inspect", "legacy:2"));
    expect(one).toMatchObject({ Id: sha256(c1), RootFS: { Layers: [diffId] } });
    expect(two).toMatchObject({
      Id: sha256(c2),
      RepoTags: ["example.com/team/legacy:2", "legacy:2"],
      RootFS: { Layers: [diffId, extraId] },
    });
    // The same layer, twice in the archive, is one blob; strata saves it in docker 25+'s form.
    const saved = join(tmp, "legacy-resaved.tar");
    await fresh.ok("save", "-o", saved, "legacy");
    const names = (await readArchive(await readFile(saved))).map((e) => e.name);
    expect(names.filter((n) => n === `blobs/sha256/${diffId.slice(7)}`)).toHaveLength(1);
  });
});
