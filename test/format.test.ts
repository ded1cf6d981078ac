/**
 * End-to-end tests of docker-compatible output: `images` filters and `--format`, `inspect
 * -f`, `history --format`, `ps --format`, `image`/`container`/`system prune`, `system df`
 * (its numbers checked against the layer blobs and vfs snapshot directories on disk) and
 * shell completion, on the vfs driver with busybox and a tiny hand-made layer.
 */
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  run,
  type StrataCli,
  strataBin,
} from "./helpers/strata.js";

/** go-units' `HumanSizeWithPrecision` (decimal units, `%.<prec>g`). */
function human(bytes: number, prec = 4): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(prec))}${units[i]}`;
}

/** docker's layer size of a layer tar: bytes of regular files plus symlink target lengths. */
async function layerSizeOfBlob(file: string): Promise<number> {
  const buf = await readFile(file);
  let size = 0;
  let off = 0;
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (a: number, b: number) =>
      header.subarray(a, b).toString("latin1").replace(/\0.*$/s, "");
    const bytes = Number.parseInt(field(124, 136).trim() || "0", 8);
    const type = String.fromCharCode(header[156] ?? 48);
    if (type === "0" || type === "\0" || type === "7") size += bytes;
    if (type === "2") size += Buffer.byteLength(field(157, 257));
    off += 512 + Math.ceil(bytes / 512) * 512;
  }
  return size;
}

/** Apparent bytes under a directory on disk, hardlinks once, directories not counted. */
async function treeBytes(dir: string): Promise<number> {
  const seen = new Set<string>();
  let size = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    if (st.isDirectory()) {
      for (const name of await readdir(p)) await walk(join(p, name));
    } else size += Number(st.size);
  };
  await walk(dir);
  return size;
}

/** The rows of a docker table, split on runs of 2+ spaces (cells here never hold those). */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/ {2,}/).map((c) => c.trim()));
}

let cli: StrataCli;
let busyboxLayer: number;
let tinyLayer: number;
const ids: Record<string, string> = {};

beforeAll(async () => {
  const tmp = await makeTempDir();
  const busyboxTar = await makeBusyboxRootfs(tmp);
  const tinyDir = join(tmp, "tiny");
  await mkdir(join(tinyDir, "data"), { recursive: true });
  await writeFile(join(tinyDir, "data/blob"), Buffer.alloc(12_345, 7));
  await symlink("data/blob", join(tinyDir, "link"));
  const tinyTar = join(tmp, "tiny.tar");
  const tar = await run("tar", ["-C", tinyDir, "-cf", tinyTar, "."]);
  expect(tar.code).toBe(0);
  busyboxLayer = await layerSizeOfBlob(busyboxTar);
  tinyLayer = await layerSizeOfBlob(tinyTar);
  expect(tinyLayer).toBe(12_345 + "data/blob".length);

  cli = await createStrata({ driver: "vfs" });
  const imp = async (name: string, ...args: string[]) => {
    ids[name] = (await cli.ok("import", ...args)).trim();
    await new Promise((r) => setTimeout(r, 1100)); // distinct creation seconds
  };
  await imp("busybox", "-c", "LABEL team=core", busyboxTar, "busybox:latest");
  await imp("other", "-c", "LABEL team=web", "-c", "ENV X=1", busyboxTar, "other:1");
  await imp("tiny", tinyTar, "tiny:1");
  await imp("dangling", "-m", "no tag", busyboxTar);
});
afterAll(cleanupTempDirs);

const short = (name: string) => (ids[name] ?? "").slice(7, 19);

describe("images --filter", () => {
  const listed = async (...args: string[]) =>
    (await cli.ok("images", "--format", "{{.Repository}}:{{.Tag}}", ...args)).trim().split("\n");

  it("dangling=true lists only untagged images, dangling=false only tagged ones", async () => {
    expect(await listed("-f", "dangling=true")).toEqual(["<none>:<none>"]);
    expect(await listed("-f", "dangling=false")).toEqual(["tiny:1", "other:1", "busybox:latest"]);
    expect(await cli.ok("images", "-q", "--filter", "dangling=true")).toBe(
      `${short("dangling")}\n`,
    );
  });

  it("reference=PATTERN matches names and tags as docker's path patterns", async () => {
    expect(await listed("-f", "reference=bus*")).toEqual(["busybox:latest"]);
    expect(await listed("-f", "reference=*:1")).toEqual(["tiny:1", "other:1"]);
    expect(await listed("-f", "reference=tiny", "-f", "reference=other")).toEqual([
      "tiny:1",
      "other:1",
    ]);
    expect(await listed("busybox")).toEqual(["busybox:latest"]);
  });

  it("before= and since= compare creation times with a named image", async () => {
    expect(await listed("-f", "before=tiny:1")).toEqual(["other:1", "busybox:latest"]);
    expect(await listed("-f", "since=other:1")).toEqual(["<none>:<none>", "tiny:1"]);
    expect(await listed("-f", "since=busybox", "-f", "before=tiny:1")).toEqual(["other:1"]);
  });

  it("label=KEY and label=KEY=VALUE match the config's labels", async () => {
    expect(await listed("-f", "label=team")).toEqual(["other:1", "busybox:latest"]);
    expect(await listed("-f", "label=team=web")).toEqual(["other:1"]);
  });

  it("fails like docker on bad filters", async () => {
    const unknown = await cli.run("images", "-f", "color=red");
    expect([unknown.code, unknown.stderr]).toEqual([1, "Error: invalid filter 'color'\n"]);
    const bad = await cli.run("images", "-f", "dangling");
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain(
      'invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)',
    );
    const missing = await cli.run("images", "-f", "before=nope:1");
    expect([missing.code, missing.stderr]).toEqual([1, "Error: No such image: nope:1\n"]);
  });
});

describe("--format", () => {
  it("images: table with docker's headers, json lines, sizes", async () => {
    const out = await cli.ok(
      "images",
      "--format",
      "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}",
      "tiny",
    );
    expect(rows(out)).toEqual([
      ["REPOSITORY", "TAG", "IMAGE ID"],
      ["tiny", "1", short("tiny")],
    ]);
    const json = (await cli.ok("images", "--format", "json"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json).toHaveLength(4);
    expect(json[1]).toMatchObject({
      Repository: "tiny",
      Tag: "1",
      ID: short("tiny"),
      Size: human(tinyLayer, 3),
      SharedSize: "0B",
      UniqueSize: human(tinyLayer),
      Containers: "0",
    });
    expect(json[3]).toMatchObject({ Repository: "busybox", SharedSize: human(busyboxLayer) });
  });

  it("images: a bad template fails with docker's message and exit 1", async () => {
    const parse = await cli.run("images", "--format", "{{.ID");
    expect([parse.code, parse.stderr]).toEqual([
      1,
      "Error: template parsing error: template: :1: unclosed action\n",
    ]);
    const exec = await cli.run("images", "--format", "{{.Nope}}");
    expect(exec.code).toBe(1);
    expect(exec.stderr).toBe(
      'Error: template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext\n',
    );
  });

  it("inspect -f: docker's documented examples", async () => {
    const f = (tmpl: string, name = "other:1") => cli.ok("inspect", "-f", tmpl, name);
    expect(await f("{{.Config.Env}}")).toBe("[X=1]\n");
    expect(await f("{{json .Config.Labels}}")).toBe('{"team":"web"}\n');
    expect(await f('{{index .Config.Labels "team"}}')).toBe("web\n");
    expect(await f("{{range .RootFS.Layers}}{{println .}}{{end}}")).toMatch(
      /^sha256:[a-f0-9]{64}\n\n$/,
    );
    expect(await f('{{join .RepoTags ","}} {{.Os | upper}} {{len .RootFS.Layers}}')).toBe(
      "other:1 LINUX 1\n",
    );
    expect(await f("{{.Config.Entrypoint}} {{.Config.Labels.nope}}")).toBe("[] <no value>\n");
    expect(await cli.ok("image", "inspect", "--format", "{{.Id}}", "tiny:1", "busybox")).toBe(
      `${ids.tiny}\n${ids.busybox}\n`,
    );
    const compact = await cli.ok("inspect", "--format", "json", "tiny:1");
    expect(JSON.parse(compact)[0].Id).toBe(ids.tiny);
    expect(compact.split("\n")).toHaveLength(2);
  });

  it("inspect -f: a missing key fails as docker's, other objects are still printed", async () => {
    const r = await cli.run("inspect", "-f", "{{.Id}}{{.Foo}}", "tiny:1", "nope");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("\n");
    expect(r.stderr).toBe(
      'Error: template parsing error: template: :1:9: executing "" at <.Foo>: map has no entry for key "Foo"\n' +
        "Error: No such object: nope\n",
    );
    const parse = await cli.run("inspect", "-f", "{{if}}", "tiny:1");
    expect([parse.code, parse.stdout, parse.stderr]).toEqual([
      1,
      "",
      "Error: template parsing error: template: :1: missing value for if\n",
    ]);
  });

  it("history --format", async () => {
    expect(await cli.ok("history", "--format", "{{.ID}} {{.Size}} {{.Comment}}", "tiny:1")).toMatch(
      new RegExp(`^${short("tiny")} ${human(tinyLayer, 3)} Imported from \\S+\n$`),
    );
    expect(
      rows(await cli.ok("history", "--format", "table {{.ID}}\t{{.CreatedBy}}", "tiny:1"))[0],
    ).toEqual(["IMAGE", "CREATED BY"]);
  });
});

describe("completion", () => {
  it("bash completes commands, flags, drivers and image names from the store", async () => {
    const script = await cli.ok("completion", "bash");
    const probe = `
      source /dev/stdin <<'EOF'
${script}
EOF
      strata() { node ${JSON.stringify(strataBin)} "$@"; }
      try() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _strata; echo "\${COMPREPLY[*]}"; }
      try strata ima
      try strata image pru
      try strata images --dig
      try strata --storage-driver ov
      try strata --root ${JSON.stringify(cli.root)} -s vfs image inspect ""
      try strata completion ""
    `;
    const r = await run("bash", ["-c", probe]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").slice(0, 6)).toEqual([
      "image images",
      "prune",
      "--digests",
      "overlay",
      "tiny:1 other:1 busybox:latest",
      "bash zsh",
    ]);
    const zsh = await cli.run("completion", "zsh");
    expect(zsh.stdout).toMatch(/^#compdef strata\n/);
    expect((await cli.run("completion", "fish")).code).toBe(125);
  });
});

describe("system df and prune, checked against the store on disk", () => {
  let containerSize: number;

  it("counts shared layers once", async () => {
    const table = rows(await cli.ok("system", "df"));
    const total = busyboxLayer + tinyLayer;
    expect(table).toEqual([
      ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
      ["Images", "4", "0", human(total), `${human(total)} (100%)`],
      ["Containers", "0", "0", "0B", "0B"],
      ["Local Volumes", "0", "0", "0B", "0B"],
      ["Build Cache", "0", "0", "0B", "0B"],
    ]);
  });

  it("accounts for a container: its image is active, its layer measured on disk", async () => {
    const snapshots = join(cli.root, "vfs/snapshots");
    // One unpacked snapshot per distinct layer: the shared busybox layer is there once.
    const before = await readdir(snapshots);
    const layerBytes = await Promise.all(before.map((d) => treeBytes(join(snapshots, d))));
    expect(layerBytes.sort((a, b) => a - b)).toEqual(
      [tinyLayer, busyboxLayer].sort((a, b) => a - b),
    );
    await cli.ok("create", "--name", "c1", "busybox:latest", "sh");
    const created = (await readdir(snapshots))
      .filter((d) => !before.includes(d))
      .sort((a, b) => Number(a) - Number(b));
    // The container's init layer and its writable layer (a full copy, on vfs).
    expect(created).toHaveLength(2);
    containerSize = await treeBytes(join(snapshots, created[1] ?? ""));
    const total = busyboxLayer + tinyLayer;
    const table = rows(await cli.ok("system", "df"));
    expect(table[1]).toEqual([
      "Images",
      "4",
      "1",
      human(total),
      `${human(tinyLayer)} (${Math.trunc((tinyLayer * 100) / total)}%)`,
    ]);
    expect(table[2]).toEqual([
      "Containers",
      "1",
      "0",
      human(containerSize),
      `${human(containerSize)} (100%)`,
    ]);
    const verbose = await cli.ok("system", "df", "-v");
    expect(verbose).toMatch(
      /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/,
    );
    const busyboxRow = rows(verbose.split("\n\n")[1] ?? "").find((r) => r[0] === "busybox");
    expect(busyboxRow?.slice(4)).toEqual([human(busyboxLayer, 3), human(busyboxLayer), "0B", "1"]);
    expect(verbose).toContain("\nContainers space usage:\n\nCONTAINER ID");
    expect(verbose).toContain("\nBuild cache usage: 0B\n");
    expect(await cli.ok("ps", "-a", "--format", "{{.Names}} {{.State}} {{.Image}}")).toBe(
      "c1 created busybox:latest\n",
    );
  });

  it("image prune asks first; no answer means no", async () => {
    const r = await cli.run(["image", "prune"], { input: "n\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ",
    );
    expect((await cli.ok("images", "-q")).split("\n")).toHaveLength(5);
  });

  it("image prune removes dangling images; a shared layer stays", async () => {
    const out = await cli.ok("image", "prune", "-f");
    expect(out).toBe(`Deleted Images:\ndeleted: ${ids.dangling}\n\nTotal reclaimed space: 0B\n`);
    expect(await cli.ok("images", "-q", "-f", "dangling=true")).toBe("");
  });

  it("image prune -a spares images in use and reclaims the layers no one needs", async () => {
    const blobs = join(cli.root, "content/blobs/sha256");
    const out = await cli.ok("image", "prune", "-a", "-f");
    expect(out).toContain(`untagged: tiny:1\ndeleted: ${ids.tiny}\n`);
    expect(out).toContain(`untagged: other:1\ndeleted: ${ids.other}\n`);
    expect(out).toMatch(new RegExp(`\\n\\nTotal reclaimed space: ${human(tinyLayer)}\\n$`));
    expect(await cli.ok("images", "--format", "{{.Repository}}")).toBe("busybox\n");
    const left = await readdir(blobs);
    expect(left).toContain(ids.busybox?.slice(7));
    expect(left).not.toContain(ids.tiny?.slice(7));
  });

  it("container prune and system prune -a empty the store", async () => {
    const c = await cli.ok("container", "prune", "-f");
    expect(c).toMatch(
      new RegExp(
        `^Deleted Containers:\\n[a-f0-9]{64}\\n\\nTotal reclaimed space: ${human(containerSize)}\\n$`,
      ),
    );
    const s = await cli.ok("system", "prune", "-a", "-f");
    expect(s).toContain(`untagged: busybox:latest\ndeleted: ${ids.busybox}\n`);
    expect(s).toMatch(new RegExp(`Total reclaimed space: ${human(busyboxLayer)}\\n$`));
    expect(await readdir(join(cli.root, "content/blobs/sha256"))).toEqual([]);
    expect(rows(await cli.ok("system", "df"))[1]).toEqual(["Images", "0", "0", "0B", "0B"]);
  });
});
