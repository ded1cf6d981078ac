/**
 * End-to-end tests of the `strata` command's image commands (import, images, inspect, tag,
 * history, rmi, info, version) on the vfs driver: the built CLI run as a user runs it, on
 * throw-away store roots, with a busybox root filesystem made from Debian's busybox-static.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  repoRoot,
  run,
  type StrataCli,
} from "./helpers/strata.js";

const ID_LINE = /^sha256:[a-f0-9]{64}\n$/;
/** docker's CREATED column for something made seconds ago. */
const RECENT = /^(Less than a second|1 second|\d+ seconds|About a minute) ago$/;

let tmp: string;
let busyboxTar: string;
let tarDigest: string;

beforeAll(async () => {
  tmp = await makeTempDir();
  busyboxTar = await makeBusyboxRootfs(tmp);
  tarDigest = `sha256:${createHash("sha256")
    .update(await readFile(busyboxTar))
    .digest("hex")}`;
});
afterAll(cleanupTempDirs);

/** Files under `<root>/content/blobs/sha256`, each with its bytes' sha256. */
async function blobs(root: string): Promise<Record<string, string>> {
  const dir = join(root, "content/blobs/sha256");
  const out: Record<string, string> = {};
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    out[name] = createHash("sha256")
      .update(await readFile(join(dir, name)))
      .digest("hex");
  }
  return out;
}

/** Splits a docker table into lines and checks every row's cells start where the header's do. */
function table(stdout: string): { header: string; rows: string[][] } {
  const lines = stdout.split("\n");
  expect(lines.pop()).toBe("");
  const [header = "", ...rest] = lines;
  const starts = [...header.matchAll(/(?:^|\s{2,})(\S)/g)].map(
    (m) => (m.index ?? 0) + m[0].length - 1,
  );
  const rows = rest.map((line) => {
    const cells = starts.map((s, i) => line.slice(s, starts[i + 1]).trimEnd());
    // Each cell but the first is preceded by at least three spaces (padding 3).
    for (const s of starts.slice(1)) expect(line.slice(s - 3, s)).toMatch(/^ {3}$|^$/);
    return cells;
  });
  return { header, rows };
}

/** Parses `inspect` output, checking docker's four-space indentation. */
function inspected(stdout: string): Record<string, unknown>[] {
  if (stdout !== "[]\n") expect(stdout).toMatch(/^\[\n {4}\{\n {8}"Id": "sha256:/);
  return JSON.parse(stdout) as Record<string, unknown>[];
}

describe("strata image commands on vfs", () => {
  let cli: StrataCli;
  let id: string;

  beforeAll(async () => {
    cli = await createStrata({ driver: "vfs" });
  });

  it("imports a rootfs tar with changes and a message, printing the full image ID", async () => {
    const r = await cli.run([
      "import",
      "-c",
      'CMD ["/bin/sh"]',
      "-c",
      "ENV A=b",
      "-m",
      "busybox from Debian",
      busyboxTar,
      "busybox:latest",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(ID_LINE);
    id = r.stdout.trim();
    // The layer blob (the tar itself), the config (named by the image ID) and a manifest.
    const stored = await blobs(cli.root);
    expect(Object.keys(stored)).toContain(tarDigest.slice(7));
    expect(Object.keys(stored)).toContain(id.slice(7));
    for (const [name, digest] of Object.entries(stored)) expect(digest).toBe(name);
  });

  it("lists it with docker's images columns", async () => {
    const r = await cli.run("images");
    expect(r.code).toBe(0);
    const { header, rows } = table(r.stdout);
    expect(header).toMatch(/^REPOSITORY {3}TAG {7}IMAGE ID {7}CREATED {3,}SIZE$/);
    expect(rows).toHaveLength(1);
    const [repo, tag, shortId, created, size] = rows[0] ?? [];
    expect([repo, tag, shortId]).toEqual(["busybox", "latest", id.slice(7, 19)]);
    expect(created).toMatch(RECENT);
    expect(size).toMatch(/^\d+(\.\d+)?MB$/);
  });

  it("inspects it: ID, tags, layers, size, config changes and comment", async () => {
    const r = await cli.run("inspect", "busybox");
    expect(r.code).toBe(0);
    const [img, ...more] = inspected(r.stdout);
    expect(more).toHaveLength(0);
    expect(img).toMatchObject({
      Id: id,
      RepoTags: ["busybox:latest"],
      RepoDigests: [],
      Comment: "busybox from Debian",
      Os: "linux",
      RootFS: { Type: "layers", Layers: [tarDigest] },
      GraphDriver: { Name: "vfs" },
    });
    const config = img?.Config as { Cmd: string[]; Env: string[] };
    expect(config.Cmd).toEqual(["/bin/sh"]);
    expect(config.Env).toContain("A=b");
    // Size counts the files' bytes: at least the busybox binary, less than the tar.
    const busyboxSize = (await stat("/bin/busybox")).size;
    expect(img?.Size).toBeGreaterThanOrEqual(busyboxSize);
    expect(img?.Size).toBeLessThan((await stat(busyboxTar)).size);
    // The images SIZE column is that size in docker's units.
    const sizeCell = table((await cli.run("images")).stdout).rows[0]?.[4];
    expect(sizeCell).toBe(`${Number(((img?.Size as number) / 1e6).toPrecision(3))}MB`);
    // By full ID, short ID and through `image inspect`, the same object.
    for (const name of [id, id.slice(7, 19), "busybox:latest"]) {
      const again = await cli.run("image", "inspect", name);
      expect(again.code).toBe(0);
      expect(inspected(again.stdout)[0]?.Id).toBe(id);
    }
  });

  it("tags it: one row per tag, and images -q prints an ID per row as docker does", async () => {
    expect(await cli.ok("tag", "busybox", "mybox:v1")).toBe("");
    const { rows } = table(await cli.ok("images"));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ["busybox", "latest", id.slice(7, 19)],
      ["mybox", "v1", id.slice(7, 19)],
    ]);
    expect(await cli.ok("images", "-q")).toBe(`${id.slice(7, 19)}\n${id.slice(7, 19)}\n`);
    expect(await cli.ok("images", "-q", "--no-trunc")).toBe(`${id}\n${id}\n`);
    expect(table(await cli.ok("images", "mybox")).rows.map((r) => r[0])).toEqual(["mybox"]);
    expect(inspected(await cli.ok("inspect", "mybox:v1"))[0]?.RepoTags).toEqual([
      "busybox:latest",
      "mybox:v1",
    ]);
  });

  it("shows its history", async () => {
    const r = await cli.run("history", "busybox");
    expect(r.code).toBe(0);
    const { header, rows } = table(r.stdout);
    expect(header).toMatch(/^IMAGE {10}CREATED {3,}CREATED BY {3,}SIZE {6}COMMENT$/);
    expect(rows).toHaveLength(1);
    const [image, created, , size, comment] = rows[0] ?? [];
    expect(image).toBe(id.slice(7, 19));
    expect(created).toMatch(RECENT);
    expect(size).toMatch(/^\d+(\.\d+)?MB$/);
    expect(comment).toBe("busybox from Debian");
    expect(await cli.ok("history", "-q", "--no-trunc", "busybox")).toBe(`${id}\n`);
    const exact = table(await cli.ok("history", "--human=false", "mybox:v1"));
    expect(exact.header).toMatch(/^IMAGE {10}CREATED AT {3,}CREATED BY/);
    expect(exact.rows[0]?.[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    expect(exact.rows[0]?.[3]).toMatch(/^\d+$/);
  });

  it("refuses to delete an ID several repositories use, without -f, and changes nothing", async () => {
    const before = await blobs(cli.root);
    const r = await cli.run("rmi", id.slice(7, 19));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `Error: conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories\n`,
    );
    expect(await cli.ok("images", "-q")).toBe(`${id.slice(7, 19)}\n${id.slice(7, 19)}\n`);
    expect(await blobs(cli.root)).toEqual(before);
  });

  it("rejects an invalid reference clearly and leaves the store unchanged", async () => {
    // Compare what does not age: "CREATED" moves on by itself.
    const state = async () => ({
      rows: table(await cli.ok("images")).rows.map((r) => r.slice(0, 3)),
      blobs: await blobs(cli.root),
    });
    const before = await state();
    const r = await cli.run("tag", "busybox", "UPPER");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Error: invalid reference format: "UPPER": .*lowercase\n$/);
    expect(await state()).toEqual(before);
  });

  it("untags, then deletes with the last tag, removing its blobs", async () => {
    const untag = await cli.run("rmi", "mybox:v1");
    expect(untag).toMatchObject({ code: 0, stdout: "Untagged: mybox:v1\n", stderr: "" });
    const r = await cli.run("rmi", "busybox");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("Untagged: busybox:latest");
    expect(lines[1]).toBe(`Deleted: ${id}`);
    for (const line of lines.slice(2)) expect(line).toMatch(/^Deleted: sha256:[a-f0-9]{64}$/);
    expect(await cli.ok("images", "-q")).toBe("");
    expect(await blobs(cli.root)).toEqual({});
    const gone = await cli.run("inspect", "busybox");
    expect(gone).toEqual({ code: 1, stdout: "[]\n", stderr: "Error: No such object: busybox\n" });
    const rmi = await cli.run("rmi", "busybox");
    expect(rmi).toMatchObject({ code: 1, stderr: "Error: No such image: busybox:latest\n" });
  });
});

describe("strata import edge cases", () => {
  it("imports from standard input with -", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const r = await cli.run(["import", "-", "stdin/box:1"], { input: await readFile(busyboxTar) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(ID_LINE);
    const [img] = inspected(await cli.ok("inspect", "stdin/box:1"));
    expect(img?.RootFS).toEqual({ Type: "layers", Layers: [tarDigest] });
    expect(img?.Comment).toBe("Imported from -");
  });

  it("fails cleanly on a file that is not a tar, leaving no image and no blob", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const junk = join(tmp, "junk.txt");
    await writeFile(junk, "this is not a tar archive\n".repeat(200));
    const r = await cli.run("import", junk, "junk:latest");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Error: .*tar/);
    expect(r.stderr.split("\n")).toHaveLength(2);
    expect(await cli.ok("images", "-q")).toBe("");
    expect(await blobs(cli.root)).toEqual({});
    expect(await readdir(join(cli.root, "content/ingest")).catch(() => [])).toEqual([]);
  });

  it("fails cleanly on a truncated tar (plain and gzip), leaving no image and no blob", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const whole = await readFile(busyboxTar);
    const cut = join(tmp, "truncated.tar");
    await writeFile(cut, whole.subarray(0, 300_000));
    const cutGz = join(tmp, "truncated.tar.gz");
    await writeFile(cutGz, gzipSync(whole).subarray(0, 300_000));
    for (const file of [cut, cutGz]) {
      const r = await cli.run("import", file, "cut:latest");
      expect(r.code, file).toBe(1);
      expect(r.stderr, file).toMatch(/^Error: import: .*(truncated|corrupt|unexpected end)/i);
      expect(r.stderr.split("\n"), "one line, no stack trace").toHaveLength(2);
    }
    expect(await cli.ok("images", "-q")).toBe("");
    expect(await blobs(cli.root)).toEqual({});
    expect(await readdir(join(cli.root, "content/ingest")).catch(() => [])).toEqual([]);
  });

  it("reports a missing file as docker does, and a URL as not supported", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const missing = await cli.run("import", join(tmp, "nope.tar"));
    expect(missing).toMatchObject({
      code: 1,
      stderr: `Error: open ${join(tmp, "nope.tar")}: no such file or directory\n`,
    });
    const url = await cli.run("import", "https://example.com/rootfs.tar");
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/^Error: .*not supported yet\n$/);
    expect(await cli.ok("images", "-q")).toBe("");
  });
});

describe("a tampered blob", () => {
  it("makes inspect and history fail clearly and leaves the store as it was", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const id = (await cli.ok("import", busyboxTar, "busybox")).trim();
    const configPath = join(cli.root, "content/blobs/sha256", id.slice(7));
    const original = await readFile(configPath);
    const tampered = Buffer.from(original);
    tampered[0] = (tampered[0] ?? 0) ^ 0x01;
    await writeFile(configPath, tampered);
    const before = await blobs(cli.root);

    for (const args of [
      ["inspect", "busybox"],
      ["history", "busybox"],
    ]) {
      const r = await cli.run(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^Error: .*${id}.*does not match its digest`));
    }
    expect(await blobs(cli.root)).toEqual(before);
    // images still lists it (one damaged image must not hide the rest)
    expect(await cli.ok("images", "-q", "--no-trunc")).toBe(`${id}\n`);

    // Nothing was dropped: with the byte restored, the image is whole again.
    await writeFile(configPath, original);
    expect(inspected(await cli.ok("inspect", "busybox"))[0]?.Id).toBe(id);
  });
});

describe("storage driver selection", () => {
  it("lists the available drivers for an unknown name", async () => {
    const cli = await createStrata({ driver: "foo" });
    const r = await cli.run("images");
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('unknown storage driver "foo" (available: aufs, overlay, vfs)');
  });

  it("picks a working driver on a new store, then sticks to the store's last one", async () => {
    const cli = await createStrata();
    const info = await cli.ok("info");
    // overlay works on these machines (root, kernel overlayfs), so it comes first.
    expect(info).toMatch(/^ Storage Driver: overlay$/m);
    expect(info).toMatch(/^ {2}vfs: usable$/m);
    expect(info).toMatch(/^ {2}overlay: usable$/m);
    expect(info).toMatch(/^ {2}aufs: (usable|not supported \(.+\))$/m);
    expect(info).toContain(` Strata Root Dir: ${cli.root}\n`);
    expect(info).toMatch(/^ Images: 0$/m);
    await cli.ok("--storage-driver", "vfs", "images");
    expect(await cli.ok("info")).toMatch(/^ Storage Driver: vfs$/m);
  });
});

describe("the strata command", () => {
  it("runs as `npx strata` from the repository root", async () => {
    const r = await run("npx", ["--no", "--", "strata", "--version"], { cwd: repoRoot });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^strata version \d+\.\d+\.\d+/);
  });

  it("prints docker's Client section for version", async () => {
    const cli = await createStrata();
    const out = await cli.ok("version");
    expect(out).toMatch(/^Client:\n Version: {11}\d+\.\d+\.\d+\n API version: {7}\d+/);
    expect(out).toMatch(/^ OS\/Arch: {11}linux\/\w+$/m);
  });

  it("exits 125 for bad usage", async () => {
    const cli = await createStrata({ driver: "vfs" });
    const r = await cli.run("images", "--bogus");
    expect(r).toEqual({
      code: 125,
      stdout: "",
      stderr: "unknown flag: --bogus\nSee 'strata images --help'.\n",
    });
    expect((await cli.run("frobnicate")).code).toBe(125);
  });
});
