/**
 * Concurrency (issue 11): several strata processes on one store at once — pulls of the same
 * image, tag and rmi of the same names, commit while another process saves, loads of the
 * same archive, imports racing a prune — each either succeeds or fails with a clear
 * `Error: …` line (never a stack trace or a raw SQLITE_BUSY), the results are right, and
 * `system check` finds no problem afterwards.
 */
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { busyboxTar, itAsRoot } from "./helpers/containers.js";
import { type RegistryServer, startRegistry } from "./helpers/registry.js";
import { seedLayeredImage } from "./helpers/registry-seed.js";
import {
  cleanupTempDirs,
  createStrata,
  makeTempDir,
  mountsUnder,
  type RunResult,
  run,
  type StrataCli,
} from "./helpers/strata.js";

const N = 4;

let registry: RegistryServer;
let pullRef: string;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await makeTempDir("strata-concurrency-");
  registry = await startRegistry(join(work, "registry"));
  pullRef = (await seedLayeredImage(registry.address, join(work, "seed"), 4)).ref;
  env = { STRATA_CONFIG: join(work, "config"), DOCKER_CONFIG: join(work, "config", "docker") };
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

async function store(): Promise<StrataCli> {
  const cli = await createStrata({ driver: "vfs" });
  await ok(cli, "import", await busyboxTar(), "base:1");
  return cli;
}

async function ok(cli: StrataCli, ...args: string[]): Promise<string> {
  const res = await cli.run(args, { env });
  if (res.code !== 0) throw new Error(`strata ${args.join(" ")} exited ${res.code}\n${res.stderr}`);
  return res.stdout;
}

/** Run every command at the same time. */
function together(cli: StrataCli, commands: string[][]): Promise<RunResult[]> {
  return Promise.all(commands.map((args) => cli.run(args, { env })));
}

/** Each result succeeded, or failed with one clear `Error:` line per failure, no stack trace. */
function expectClean(results: RunResult[], commands: string[][]): void {
  results.forEach((r, i) => {
    const what = `strata ${commands[i]!.join(" ")} → ${r.code}\n${r.stderr}`;
    expect([0, 1], what).toContain(r.code);
    expect(r.stderr, what).not.toMatch(/SQLITE_|^\s+at .+:\d+:\d+\)?$/m);
    if (r.code !== 0) expect(r.stderr, what).toMatch(/^Error: /);
  });
}

/** Wait until `file` exists (a paused process reached its point). */
async function waitFor(file: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (
    !(await access(file).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`${file}: never appeared`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectStoreSound(cli: StrataCli): Promise<void> {
  const check = await cli.run(["system", "check"], { env });
  expect(check.stdout, check.stderr).not.toMatch(/^problem:/m);
  expect(check.code, check.stdout + check.stderr).toBe(0);
  expect(await mountsUnder(cli.root)).toEqual([]);
}

describe("several strata processes on one store", () => {
  itAsRoot("pulls of the same image all succeed and store it once", async () => {
    const cli = await store();
    const commands = Array.from({ length: N }, () => ["pull", "-q", pullRef]);
    const results = await together(cli, commands);
    expectClean(results, commands);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const ids = (await ok(cli, "images", "-q", "--no-trunc")).trim().split("\n");
    expect(new Set(ids).size).toBe(2); // base and the pulled image
    await expectStoreSound(cli);
  });

  itAsRoot("tag and rmi of the same names end consistent", async () => {
    const cli = await store();
    for (let round = 0; round < 2; round++) {
      const commands = [
        ["tag", "base:1", "same:1"],
        ["rmi", "same:1"],
        ["tag", "base:1", "same:1"],
        ["rmi", "same:1"],
        ["tag", "base:1", "same:2"],
        ["rmi", "same:2"],
      ];
      const results = await together(cli, commands);
      expectClean(results, commands);
      for (const [i, r] of results.entries()) {
        if (commands[i]![0] === "tag") expect(r.code, r.stderr).toBe(0);
        else if (r.code !== 0) expect(r.stderr).toMatch(/^Error: No such image: same:[12]$/m);
      }
      // Whatever the order, each name either names base or nothing; base is never lost.
      for (const name of ["same:1", "same:2"]) {
        const res = await cli.run(["image", "inspect", "-f", "{{.Id}}", name], { env });
        if (res.code === 0)
          expect(res.stdout.trim()).toBe(
            (await ok(cli, "inspect", "-f", "{{.Id}}", "base:1")).trim(),
          );
      }
      await ok(cli, "image", "inspect", "base:1");
    }
    // Removing one image from several processes: one deletes it, the others find nothing.
    const victim = (await ok(cli, "import", await busyboxTar(), "victim:1")).trim();
    await ok(cli, "tag", "victim:1", "victim:2");
    const commands = [
      ["rmi", "-f", victim],
      ["rmi", "victim:1"],
      ["rmi", "victim:2"],
      ["rmi", "-f", victim],
    ];
    const results = await together(cli, commands);
    expectClean(results, commands);
    expect(results.some((r) => r.code === 0 && r.stdout.includes(`Deleted: ${victim}`))).toBe(true);
    expect((await cli.run(["image", "inspect", victim], { env })).code).toBe(1);
    await expectStoreSound(cli);
  });

  itAsRoot("commit while another process saves, then the archive loads", async () => {
    const cli = await store();
    await ok(cli, "run", "--name", "busy", "base:1", "sh", "-c", "seq 1 50000 > /numbers");
    const archive = join(work, "saved.tar");
    const commands = [
      ["commit", "busy", "committed:1"],
      ["save", "-o", archive, "base:1"],
      ["commit", "busy", "committed:2"],
      ["save", "-o", join(work, "saved2.tar"), "base:1"],
    ];
    const results = await together(cli, commands);
    expectClean(results, commands);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect((await ok(cli, "run", "--rm", "committed:2", "wc", "-l", "/numbers")).trim()).toMatch(
      /^50000 /,
    );
    const other = await createStrata({ driver: "vfs" });
    await ok(other, "load", "-i", archive);
    await ok(other, "image", "inspect", "base:1");
    await ok(cli, "rm", "busy");
    await expectStoreSound(cli);
    await expectStoreSound(other);
  });

  itAsRoot("loads of the same archive all succeed and store it once", async () => {
    const src = await store();
    const archive = join(work, "base.tar");
    await ok(src, "save", "-o", archive, "base:1");
    const cli = await createStrata({ driver: "vfs" });
    const commands = Array.from({ length: N }, () => ["load", "-q", "-i", archive]);
    const results = await together(cli, commands);
    expectClean(results, commands);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect((await ok(cli, "images", "-q")).trim().split("\n")).toHaveLength(1);
    await expectStoreSound(cli);
  });

  itAsRoot("an import reusing the layer of an image being removed keeps it", async () => {
    const cli = await store();
    const tree = join(work, "own-layer");
    await mkdir(join(tree, "data"), { recursive: true });
    await writeFile(join(tree, "data", "file"), "a layer only these images have\n".repeat(5000));
    const tar = join(work, "own-layer.tar");
    expect((await run("tar", ["-C", tree, "-cf", tar, "."])).code).toBe(0);
    await ok(cli, "import", "-c", "ENV OLD=1", tar, "old:1");
    // The import stops once its layer blob is stored (the same blob old:1 has) and before it
    // records its image; the rmi of old:1, the layer's only user, runs in that window.
    const go = join(work, "import-go");
    const importing = cli.run(["import", "-c", "ENV NEW=1", tar, "new:1"], {
      env: { ...env, STRATA_PAUSE_AT: `after-blob-before-metadata:${go}` },
    });
    await waitFor(`${go}.reached`);
    const rmi = await cli.run(["rmi", "old:1"], { env });
    await writeFile(go, "");
    const imported = await importing;
    expectClean([rmi, imported], [["rmi"], ["import"]]);
    expect(rmi.code, rmi.stderr).toBe(0);
    expect(imported.code, imported.stderr).toBe(0);
    await expectStoreSound(cli);
    expect(await ok(cli, "image", "inspect", "-f", "{{len .RootFS.Layers}}", "new:1")).toBe("1\n");
  });

  itAsRoot("imports and removals racing a prune leave every tagged image whole", async () => {
    const cli = await store();
    const tar = await busyboxTar();
    for (let i = 0; i < 2; i++) await ok(cli, "import", "-c", `ENV N=${i}`, tar); // dangling
    const commands = [
      ["image", "prune", "-f"],
      ["import", "-c", "ENV X=1", tar, "kept:1"],
      ["import", "-c", "ENV X=2", tar, "kept:2"],
      ["rmi", "base:1"],
      ["image", "prune", "-f"],
    ];
    const results = await together(cli, commands);
    expectClean(results, commands);
    for (const r of results.slice(0, 3)) expect(r.code, r.stderr).toBe(0);
    // The tagged images work: their layer can be unpacked and run.
    for (const name of ["kept:1", "kept:2"]) {
      expect(await ok(cli, "run", "--rm", name, "echo", "ok")).toBe("ok\n");
    }
    await expectStoreSound(cli);
  });
});
