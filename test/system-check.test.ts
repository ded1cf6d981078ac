/**
 * `strata system check [--repair]` (issue 11): it finds what is wrong in a store — a
 * corrupt blob and the images needing it, a tag pointing at no image, a layer record no
 * image has, snapshots of no container, a mount left by a dead process — and `--repair`
 * fixes it, saying what it did, after which the check passes; what an interrupted
 * operation left for the next start (temporary files, temporary mounts) is gone by then.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { itAsRoot } from "./helpers/containers.js";
import { tamper } from "./helpers/registry.js";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  mountsUnder,
  run,
  type StrataCli,
} from "./helpers/strata.js";

/** A pid no process has (above Linux's largest pid_max). */
const DEAD_PID = 4194305;

let tar: string;

beforeAll(async () => {
  tar = await makeBusyboxRootfs(await makeTempDir());
});
afterAll(cleanupTempDirs);

async function storeWithImages(): Promise<{ cli: StrataCli; a: string; b: string }> {
  const cli = await createStrata({ driver: "vfs" });
  const a = (await cli.ok("import", tar, "a:1")).trim();
  const other = join(await makeTempDir(), "b.tar");
  const tree = await makeTempDir();
  await writeFile(join(tree, "b.txt"), "image b has a layer of its own\n");
  expect((await run("tar", ["-C", tree, "-cf", other, "."])).code).toBe(0);
  const b = (await cli.ok("import", other, "b:1")).trim();
  return { cli, a, b };
}

/** Change the metadata database behind strata's back (python3's sqlite3, foreign keys off). */
async function sql(cli: StrataCli, statement: string): Promise<void> {
  const script =
    "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()";
  const res = await run("python3", ["-c", script, join(cli.root, "metadata.db"), statement]);
  expect(res.code, res.stderr).toBe(0);
}

function blobFile(cli: StrataCli, digest: string): string {
  return join(cli.root, "content/blobs/sha256", digest.replace(/^sha256:/, ""));
}

describe("system check", () => {
  it("passes on a sound store and counts what it verified", async () => {
    const { cli } = await storeWithImages();
    const res = await cli.run("system", "check");
    expect(res.stderr).toBe("");
    const blobs = (await readdir(join(cli.root, "content/blobs/sha256"))).length;
    expect(res.stdout).toMatch(
      new RegExp(
        `^Checked ${blobs} blobs \\(.+\\), 2 images, 0 containers, 2 snapshots \\(vfs\\): no problems\\n$`,
      ),
    );
    expect(res.code).toBe(0);
    const json = JSON.parse(await cli.ok("system", "check", "--format", "json")) as {
      problems: number;
      blobs: { count: number };
    };
    expect(json.problems).toBe(0);
    expect(json.blobs.count).toBe(blobs);
  });

  it("finds a corrupt layer blob; --repair removes it and the image needing it", async () => {
    const { cli, a, b } = await storeWithImages();
    const layer = (
      JSON.parse(await cli.ok("image", "inspect", "b:1")) as { RootFS: { Layers: string[] } }[]
    )[0]!.RootFS.Layers[0]!;
    await tamper(blobFile(cli, layer), 10);
    const found = await cli.run("system", "check");
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(
      new RegExp(`^problem: blob ${layer}: corrupt: content hashes to sha256:[0-9a-f]{64}$`, "m"),
    );
    expect(found.stdout).toMatch(
      new RegExp(`^problem: image ${b}: layer blob ${layer} is corrupt$`, "m"),
    );
    expect(found.stdout).toMatch(/: 2 problems\n$/);
    expect((await cli.run("system", "check", "-q")).stdout).toBe("");
    expect((await cli.run("system", "check", "-q")).code).toBe(1);

    const repaired = await cli.run("system", "check", "--repair");
    expect(repaired.stdout).toContain(`repaired: deleted corrupt blob ${layer}`);
    expect(repaired.stdout).toContain(
      `removed image ${b} (blob ${layer} is damaged); pull or load it again`,
    );
    expect(repaired.stdout).toMatch(/: no problems\n$/);
    expect(repaired.code).toBe(0);
    expect((await cli.run("image", "inspect", "b:1")).code).toBe(1);
    expect((await cli.ok("images", "-q", "--no-trunc")).trim()).toBe(a);
    expect((await cli.run("system", "check")).code).toBe(0);
  });

  it("keeps, and names, a damaged image a container uses", async () => {
    const { cli, b } = await storeWithImages();
    await cli.ok("create", "--name", "user", "b:1", "/b.txt");
    const config = blobFile(cli, b);
    await tamper(config, 2);
    const repaired = await cli.run("system", "check", "--repair");
    expect(repaired.stdout).toContain(`kept image ${b}`);
    expect(repaired.stdout).toMatch(
      /container [0-9a-f]{12} uses it; remove the container, then repair again/,
    );
    expect(repaired.code).toBe(1);
    await cli.ok("rm", "user");
    expect((await cli.run("system", "check", "--repair")).code).toBe(0);
  });

  it("finds a dangling tag and a stray layer record; --repair deletes them", async () => {
    const { cli } = await storeWithImages();
    const ghost = `sha256:${"e".repeat(64)}`;
    await sql(
      cli,
      `PRAGMA foreign_keys=OFF;
       INSERT INTO tags(name, image_id, created) VALUES ('docker.io/library/ghost:1', '${ghost}', '2020-01-01');
       INSERT INTO layers(diff_id, blob_digest, blob_media_type, blob_size, size) VALUES ('${ghost}', '${ghost}', 'x', 1, 1);`,
    );
    const found = await cli.run("system", "check");
    expect(found.stdout).toContain(
      `problem: tag docker.io/library/ghost:1: points at image ${ghost}, which does not exist`,
    );
    expect(found.stdout).toContain(`problem: layer ${ghost}: recorded, but no image has it`);
    expect(found.code).toBe(1);
    const repaired = await cli.run("system", "check", "--repair");
    expect(repaired.stdout).toContain("repaired: deleted dangling tag docker.io/library/ghost:1");
    expect(repaired.stdout).toContain(`repaired: deleted the record of layer ${ghost}`);
    expect(repaired.code).toBe(0);
  });

  it("reports an unreferenced blob as a note, which --repair deletes", async () => {
    const { cli } = await storeWithImages();
    const data = Buffer.from("left by an interrupted pull\n");
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    await writeFile(blobFile(cli, digest), data);
    const found = await cli.run("system", "check");
    expect(found.stdout).toContain(`note: blob ${digest}: no image uses it`);
    expect(found.stdout).toMatch(/: no problems, 1 note\n$/);
    expect(found.code).toBe(0);
    const repaired = await cli.run("system", "check", "--repair");
    expect(repaired.stdout).toContain(`repaired: deleted unreferenced blob ${digest}`);
    expect((await readdir(join(cli.root, "content/blobs/sha256"))).includes(digest.slice(7))).toBe(
      false,
    );
  });

  it("finds the snapshots of a container that is gone; --repair removes them", async () => {
    const { cli } = await storeWithImages();
    const id = (await cli.ok("create", "--name", "lost", "a:1", "true")).trim();
    await sql(cli, `DELETE FROM containers WHERE id = '${id}';`);
    const found = await cli.run("system", "check");
    expect(found.stdout).toContain(`problem: snapshot "container-${id}": belongs to no container`);
    expect(found.stdout).toContain(
      `problem: snapshot "container-${id}-init": belongs to no container`,
    );
    const repaired = await cli.run("system", "check", "--repair");
    expect(repaired.stdout).toContain(`repaired: removed snapshot "container-${id}"`);
    expect(repaired.code).toBe(0);
  });

  itAsRoot("checks every driver the store has snapshots in", async () => {
    const { cli } = await storeWithImages();
    await cli.ok("--storage-driver", "overlay", "create", "--name", "on-overlay", "a:1", "true");
    const sound = await cli.run("system", "check");
    expect(sound.stdout).toMatch(/^Checked \d+ snapshots \(overlay\): no problems$/m);
    expect(sound.code).toBe(0);
    const dirs = join(cli.root, "overlay", "snapshots");
    const first = (await readdir(dirs)).sort((x, y) => Number(x) - Number(y))[0]!;
    await rename(join(dirs, first), join(cli.root, "overlay", "moved-away"));
    const found = await cli.run("system", "check");
    expect(found.stdout).toMatch(
      new RegExp(
        `^problem: driver overlay: snapshot "sha256:[0-9a-f]{64}" \\(committed\\): its directory ${dirs}/${first} is missing$`,
        "m",
      ),
    );
    expect(found.stdout).toMatch(/^Checked \d+ snapshots \(overlay\): 1 problem$/m);
    expect(found.code).toBe(1);
    await rename(join(cli.root, "overlay", "moved-away"), join(dirs, first));
    await cli.ok("--storage-driver", "overlay", "rm", "on-overlay");
  });

  it("cleans a dead writer's temporary files at the next start", async () => {
    const { cli } = await storeWithImages();
    const ingest = join(cli.root, "content/ingest");
    await mkdir(ingest, { recursive: true });
    await writeFile(join(ingest, `${DEAD_PID}-0123456789abcdef`), "half a blob");
    await mkdir(join(cli.root, "content/leases", String(DEAD_PID)), { recursive: true });
    const res = await cli.run("system", "check");
    expect(res.code, res.stdout).toBe(0);
    expect(await readdir(ingest)).toEqual([]);
    expect(await readdir(join(cli.root, "content/leases"))).toEqual([]);
  });

  itAsRoot("finds a mount a dead process left in the store; --repair unmounts it", async () => {
    const { cli } = await storeWithImages();
    const where = join(cli.root, "containers", "f".repeat(64), "rootfs");
    await mkdir(where, { recursive: true });
    expect((await run("mount", ["-t", "tmpfs", "tmpfs", where])).code).toBe(0);
    const found = await cli.run("system", "check");
    expect(found.stdout).toContain(`problem: mount ${where}: mounted by a process that is gone`);
    expect(found.code).toBe(1);
    const repaired = await cli.run("system", "check", "--repair");
    expect(repaired.stdout).toContain(`repaired: unmounted ${where}`);
    expect(repaired.code).toBe(0);
    expect(await mountsUnder(cli.root)).toEqual([]);
  });

  itAsRoot("unmounts a dead process's temporary mount at the next start", async () => {
    const { cli } = await storeWithImages();
    const where = join(tmpdir(), `strata-mnt-${DEAD_PID}-check`);
    await mkdir(where, { recursive: true });
    expect((await run("mount", ["-t", "tmpfs", "tmpfs", where])).code).toBe(0);
    const res = await cli.run("system", "check");
    expect(res.code, res.stdout).toBe(0);
    expect(await mountsUnder(where)).toEqual([]);
  });
});
