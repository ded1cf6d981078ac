/**
 * Crash safety (issue 11): strata is killed with SIGKILL while it pulls, loads, imports,
 * commits, builds, removes and prunes images — at named points of core (`STRATA_CRASH_AT`: a blob
 * renamed into place but not yet recorded, a transaction half done, a layer half unpacked,
 * a prune half done) and after random delays drawn from a fixed-seed PRNG — and after each
 * kill `system check` (which runs after the start-up recovery) finds no problem, the images
 * that were there before are intact, nothing is left mounted, and the operation then
 * succeeds.
 *
 * Bounded in time: the named points always run; random kills (up to `STRATA_CRASH_ROUNDS`,
 * default 2, per operation) stop once an operation has used `STRATA_CRASH_BUDGET_MS`
 * (default 8 s) on them, so a loaded machine does fewer. Raise both for a soak;
 * `STRATA_CRASH_DRIVER` runs it on another storage driver (default vfs).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
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
  strataBin,
} from "./helpers/strata.js";

const SEED = 0x5eed11;
const ROUNDS = Number(process.env.STRATA_CRASH_ROUNDS ?? 2);
const BUDGET_MS = Number(process.env.STRATA_CRASH_BUDGET_MS ?? 8_000);

/** mulberry32: a small PRNG, so that every run kills at the same moments. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

let registry: RegistryServer;
let cli: StrataCli;
let env: NodeJS.ProcessEnv;
let work: string;
let pullRef: string;
/** The base image's config and layer blobs, which every kill must leave intact. */
let baseBlobs: string[];

/** Run strata on the test store; SIGKILL it after `killAfterMs` when given. */
function strata(
  args: string[],
  opts: { killAfterMs?: number; crashAt?: string } = {},
): Promise<RunResult & { killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [strataBin, ...cli.globalArgs, ...args], {
      env: {
        ...process.env,
        ...env,
        ...(opts.crashAt ? { STRATA_CRASH_AT: opts.crashAt } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const timer =
      opts.killAfterMs !== undefined
        ? setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs)
        : setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal === "SIGKILL" ? 137 : 128),
        killed: signal === "SIGKILL",
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const res = await strata(args);
  if (res.code !== 0) throw new Error(`strata ${args.join(" ")} exited ${res.code}\n${res.stderr}`);
  return res.stdout;
}

/** After a kill: the check passes, the base image's blobs are intact, nothing is mounted. */
async function assertConsistent(what: string): Promise<void> {
  const check = await strata(["system", "check"]);
  expect(check.stdout, `${what}\n${check.stderr}`).not.toMatch(/^problem:/m);
  expect(check.code, `${what}\n${check.stdout}${check.stderr}`).toBe(0);
  expect(check.stderr).toBe("");
  for (const digest of baseBlobs) {
    const bytes = await readFile(join(cli.root, "content/blobs/sha256", digest.slice(7)));
    expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, what).toBe(digest);
  }
  expect(await mountsUnder(cli.root)).toEqual([]);
}

/** A tar holding one file of `kib` KiB of pseudo-random text (a layer of its own). */
async function smallTar(name: string, kib: number): Promise<string> {
  const dir = join(work, `${name}-tree`);
  await mkdir(join(dir, "data"), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < kib * 16; i++) lines.push(`${name} ${i} ${random().toString(36)}`.padEnd(63));
  await writeFile(join(dir, "data", `${name}.txt`), `${lines.join("\n")}\n`);
  const tar = join(work, `${name}.tar`);
  const res = await run("tar", ["-C", dir, "-cf", tar, "."]);
  if (res.code !== 0) throw new Error(res.stderr);
  return tar;
}

interface CrashCase {
  /** The operation's arguments. */
  args: () => string[];
  /** Make the operation possible again (before each attempt). */
  prepare?: () => Promise<void>;
  /** After the operation succeeded: check its result and undo it. */
  finish: () => Promise<void>;
  /** Named crash points the operation passes. */
  points: string[];
  /** Whether to run the operation again after a kill (not when the kill came too late: rmi). */
  rerunWanted?: () => Promise<boolean>;
}

/**
 * Kill the operation at each named point and at `ROUNDS` random moments within its usual
 * duration; after each kill the store is consistent and the operation then succeeds.
 */
async function crashLoop(name: string, c: CrashCase): Promise<void> {
  // The named points first; the reruns after them measure how long the operation takes,
  // and the random kills land within that.
  let duration = 0;
  const attempts: { label: string; opts: { killAfterMs?: number; crashAt?: string } }[] = [
    ...c.points.map((p) => ({ label: `STRATA_CRASH_AT=${p}`, opts: { crashAt: p } })),
    ...Array.from({ length: ROUNDS }, () => {
      const opts: { killAfterMs?: number } = {};
      return { label: "random kill", opts };
    }),
  ];
  let kills = 0;
  let randomStart: number | undefined;
  for (const attempt of attempts) {
    const { opts } = attempt;
    if (!opts.crashAt) {
      randomStart ??= Date.now();
      if (Date.now() - randomStart > BUDGET_MS) break;
      opts.killAfterMs = Math.round((duration || 2000) * (0.3 + 0.7 * random()));
      attempt.label = `kill after ${opts.killAfterMs} ms`;
    }
    const { label } = attempt;
    await c.prepare?.();
    const res = await strata(c.args(), opts);
    if (opts.crashAt) {
      // The hook must have been reached: otherwise the test would prove nothing.
      expect(res.killed, `${name} ${label}: not killed\n${res.stderr}`).toBe(true);
    } else if (!res.killed) {
      expect(res.code, `${name} ${label}\n${res.stderr}`).toBe(0);
    }
    await assertConsistent(`${name} after ${label}`);
    if (!res.killed) {
      await c.finish(); // it finished before the kill
      continue;
    }
    kills++;
    if (c.rerunWanted && !(await c.rerunWanted())) continue;
    const t0 = Date.now();
    const again = await strata(c.args());
    duration = Math.max(duration, Date.now() - t0);
    expect(again.code, `${name} after ${label}: rerun\n${again.stderr}`).toBe(0);
    await c.finish();
  }
  expect(kills).toBeGreaterThanOrEqual(c.points.length);
}

beforeAll(async () => {
  work = await makeTempDir("strata-crash-");
  registry = await startRegistry(join(work, "registry"));
  pullRef = (await seedLayeredImage(registry.address, join(work, "seed"), 5)).ref;
  cli = await createStrata({ driver: process.env.STRATA_CRASH_DRIVER ?? "vfs" });
  env = { STRATA_CONFIG: join(work, "config"), DOCKER_CONFIG: join(work, "config", "docker") };
  await ok("import", await busyboxTar(), "base:1");
  const base = JSON.parse(await ok("image", "inspect", "base:1")) as {
    Id: string;
    RootFS: { Layers: string[] };
  }[];
  baseBlobs = [base[0]!.Id, ...base[0]!.RootFS.Layers];
});
afterAll(async () => {
  await registry?.stop();
  await cleanupTempDirs();
});

describe("kill -9 at any point leaves a consistent store", () => {
  itAsRoot("pull", async () => {
    await crashLoop("pull", {
      args: () => ["pull", "-q", pullRef],
      finish: async () => {
        await ok("rmi", pullRef); // fails unless the image is there
      },
      points: ["ingest-before-rename:4", "mid-transaction"],
    });
  });

  itAsRoot("load", async () => {
    const tar = await smallTar("load", 512);
    await ok("import", tar, "loadme:1");
    const archive = join(work, "loadme.tar");
    await ok("save", "-o", archive, "loadme:1");
    await ok("rmi", "loadme:1");
    await crashLoop("load", {
      args: () => ["load", "-q", "-i", archive],
      finish: async () => {
        await ok("rmi", "loadme:1");
      },
      points: ["after-blob-before-metadata", "mid-transaction"],
    });
  });

  itAsRoot("import", async () => {
    const tar = await smallTar("import", 2048);
    await crashLoop("import", {
      args: () => ["import", tar, "imported:1"],
      finish: async () => {
        await ok("rmi", "imported:1");
      },
      points: ["mid-unpack", "mid-transaction"],
    });
  });

  itAsRoot("commit", async () => {
    let checkedCommit = false;
    await ok("run", "--name", "crashc", "base:1", "sh", "-c", "seq 1 20000 > /numbers");
    await crashLoop("commit", {
      args: () => ["commit", "crashc", "committed:1"],
      finish: async () => {
        if (!checkedCommit) {
          const out = await ok("run", "--rm", "committed:1", "wc", "-l", "/numbers");
          expect(out.trim()).toMatch(/^20000 /);
          checkedCommit = true;
        }
        await ok("rmi", "committed:1");
      },
      points: ["ingest-before-rename", "mid-transaction"],
    });
    await ok("rm", "crashc");
  });

  itAsRoot("build", async () => {
    const ctx = join(work, "build-context");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "f.txt"), "copied into the image\n".repeat(2000));
    await writeFile(
      join(ctx, "Dockerfile"),
      "FROM base:1\nRUN seq 1 30000 > /numbers\nCOPY f.txt /f.txt\nENV X=1\n",
    );
    await crashLoop("build", {
      args: () => ["build", "-q", "--no-cache", ctx],
      finish: async () => {
        // The untagged result and its untagged steps go; a build leaves no container.
        expect(await ok("image", "prune", "-f")).toMatch(/^deleted: sha256:/m);
        expect(await ok("ps", "-a", "-q"), "a build leaves no container").toBe("");
      },
      points: ["after-blob-before-metadata", "mid-transaction:2"],
    });
    expect(await ok("images", "-q", "--filter", "dangling=true")).toBe("");
  });

  itAsRoot("rmi", async () => {
    const tar = await smallTar("victim", 1024);
    let present = false;
    await crashLoop("rmi", {
      prepare: async () => {
        if (!present) await ok("import", tar, "victim:1");
        present = true;
      },
      args: () => ["rmi", "victim:1"],
      rerunWanted: async () => {
        present = (await strata(["image", "inspect", "victim:1"])).code === 0;
        return present;
      },
      finish: async () => {
        present = false; // rmi said so by exiting 0
      },
      points: ["mid-transaction", "mid-prune"],
    });
    expect((await strata(["image", "inspect", "victim:1"])).code).toBe(1);
  });

  itAsRoot("image prune", async () => {
    const tars = [await smallTar("dangling-a", 256), await smallTar("dangling-b", 256)];
    const dangling = async () =>
      (await ok("images", "-q", "--filter", "dangling=true")).trim().split("\n").filter(Boolean);
    let some = false;
    await crashLoop("image prune", {
      prepare: async () => {
        if (!some) for (const t of tars) await ok("import", t);
        some = true;
      },
      args: () => ["image", "prune", "-f"],
      rerunWanted: async () => {
        some = (await dangling()).length > 0;
        return some;
      },
      finish: async () => {
        some = false;
      },
      points: ["mid-transaction:2", "mid-prune"],
    });
    expect(await dangling()).toEqual([]);
  });
});
