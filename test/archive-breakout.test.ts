/**
 * Archive breakouts on every path that extracts a tar: the table of
 * `helpers/breakout-cases.ts` (moby's `pkg/archive` breakout cases written anew, plus
 * whiteouts, devices, duplicates, oversized headers and damaged streams) against
 *
 * - each driver's differ, in-process, applying onto a snapshot with a parent (vfs with
 *   core's naive differ; overlay's and aufs's native differs; core's naive differ through
 *   a kernel overlay mount and through the aufs FUSE union);
 * - `strata import` (reads the tar, then unpacks it on the store's driver);
 * - `strata load` of an image whose layer is the case, then `strata create` (unpacks it).
 *
 * Each run snapshots a victim directory lying next to the target (content, mode, owner,
 * link count, mtime and xattrs of every node) and expects it unchanged afterwards, whether
 * the archive was refused or extracted harmlessly. Refusals are typed errors, or for the CLI
 * `Error: …` with exit 1, no stack trace and the store as it was.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  ContentStore,
  type Descriptor,
  type Differ,
  MediaTypes,
  MountManager,
  NaiveDiffer,
  readXattrs,
  type Snapshotter,
  StrataError,
} from "@strata/core";
import { AufsDiffer, AufsSnapshotter } from "@strata/driver-aufs";
import { OverlayDiffer, OverlaySnapshotter } from "@strata/driver-overlay";
import { VfsSnapshotter } from "@strata/driver-vfs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { craftTar, sha256 } from "./helpers/archives.js";
import {
  type BreakoutCase,
  breakoutCases,
  makeVictim,
  snapshotVictim,
} from "./helpers/breakout-cases.js";
import { cleanupTempDirs, createStrata, makeTempDir, type StrataCli } from "./helpers/strata.js";

afterAll(cleanupTempDirs);

/** A directory holding the victim and whatever a path extracts into, side by side. */
interface Arena {
  base: string;
  victim: string;
}

async function arena(): Promise<Arena> {
  const base = await makeTempDir("strata-breakout-");
  const victim = join(base, "victim");
  await makeVictim(victim);
  return { base, victim };
}

/** Names an escape could leave at the top of the filesystem or in the temp directory. */
const CANARIES = ["dotdot", "slash-dotdot", "file", "newfile", "pax", "x", "null"];

async function expectNothingOutside(
  a: Arena,
  before: Awaited<ReturnType<typeof snapshotVictim>>,
  baseNames: string[],
): Promise<void> {
  expect(await snapshotVictim(a.victim)).toEqual(before);
  expect((await readdir(a.base)).sort()).toEqual(baseNames);
  for (const dir of ["/", tmpdir()]) {
    const names = await readdir(dir);
    expect(names.filter((n) => CANARIES.includes(n))).toEqual([]);
  }
}

/** The error a refused case must carry: typed, and worded as the case says. */
function expectTyped(err: unknown, c: BreakoutCase): void {
  expect(err, `${c.name}: ${String(err)}`).toBeInstanceOf(StrataError);
  if (c.error) expect((err as Error).message).toMatch(c.error);
}

// --- each driver's differ, in-process ---------------------------------------------------

interface DriverUnderTest {
  name: string;
  make(root: string, cs: ContentStore, mm: MountManager): { sn: Snapshotter; differ: Differ };
}

const drivers: DriverUnderTest[] = [
  {
    name: "vfs (naive differ)",
    make: (root, cs, mm) => ({ sn: new VfsSnapshotter(root), differ: new NaiveDiffer(cs, mm) }),
  },
  {
    name: "overlay (native differ)",
    make: (root, cs, mm) => ({
      sn: new OverlaySnapshotter(root),
      differ: new OverlayDiffer(cs, new NaiveDiffer(cs, mm)),
    }),
  },
  {
    name: "overlay (naive differ through the kernel overlay mount)",
    make: (root, cs, mm) => ({ sn: new OverlaySnapshotter(root), differ: new NaiveDiffer(cs, mm) }),
  },
  {
    name: "aufs (native differ)",
    make: (root, cs, mm) => {
      const sn = new AufsSnapshotter(root);
      mm.addHandler(sn.mountHandler);
      return { sn, differ: new AufsDiffer(cs, new NaiveDiffer(cs, mm)) };
    },
  },
  {
    name: "aufs (naive differ through the FUSE union)",
    make: (root, cs, mm) => {
      const sn = new AufsSnapshotter(root);
      mm.addHandler(sn.mountHandler);
      return { sn, differ: new NaiveDiffer(cs, mm) };
    },
  },
];

/** Store `blob` as a layer: gzip media type (and diff ID annotation) for gzip cases. */
async function storeBlob(cs: ContentStore, blob: Buffer, gzip: boolean): Promise<Descriptor> {
  const info = await cs.put(blob);
  if (!gzip) return { mediaType: MediaTypes.OciLayer, digest: info.digest, size: info.size };
  let diffId = sha256("undecodable");
  try {
    diffId = sha256(gunzipSync(blob));
  } catch {}
  return {
    mediaType: MediaTypes.OciLayerGzip,
    digest: info.digest,
    size: info.size,
    annotations: { "io.strata.diff-id": diffId },
  };
}

describe.each(drivers)("differ apply on $name", (d) => {
  let a: Arena;
  let cs: ContentStore;
  let sn: Snapshotter;
  let differ: Differ;
  let baseNames: string[];

  beforeAll(async () => {
    a = await arena();
    cs = new ContentStore(join(a.base, "store"));
    const mm = new MountManager();
    await mkdir(join(a.base, "driver"));
    ({ sn, differ } = d.make(join(a.base, "driver"), cs, mm));
    // A parent with content, so whiteouts have something to remove and overlay converts them.
    const parent = await craftTar([
      { name: "keep", body: "keep\n" },
      { name: "d/", type: "dir" },
      { name: "d/old", body: "old\n" },
      { name: "loophole", body: "a file in the parent\n" },
    ]);
    const key = "base-key";
    await differ.apply(await storeBlob(cs, parent, false), await sn.prepare(key));
    await sn.commit("base", key);
    baseNames = (await readdir(a.base)).sort();
  });
  afterAll(async () => {
    await sn?.close();
  });

  for (const [i, c] of breakoutCases.entries()) {
    it(`${c.outcome === "reject" ? "refuses" : "contains"}: ${c.name}`, async () => {
      const blob = await c.tar(a.victim);
      const desc = await storeBlob(cs, blob, c.gzip === true);
      const before = await snapshotVictim(a.victim);
      const key = `case-${i}`;
      const mounts = await sn.prepare(key, "base");
      let failure: unknown;
      try {
        await differ.apply(desc, mounts);
      } catch (err) {
        failure = err;
      }
      await sn.remove(key);
      if (c.outcome === "reject") {
        expect(failure, `${c.name} was applied`).toBeDefined();
        expectTyped(failure, c);
      } else if (c.outcome === "accept") {
        expect(failure).toBeUndefined();
      } else if (failure !== undefined) {
        expectTyped(failure, c);
      }
      await expectNothingOutside(a, before, baseNames);
    });
  }
});

// --- strata import ----------------------------------------------------------------------

/** Blob and ingest files of a store: what a refused command must leave as it was. */
async function storeFiles(root: string): Promise<string[]> {
  const list = (d: string) => readdir(join(root, d)).catch(() => [] as string[]);
  return [...(await list("content/blobs/sha256")), ...(await list("content/ingest"))].sort();
}

/**
 * Run `strata args` expecting the case's outcome; on refusal the store's files stay.
 * `failCode`: the exit code of a refusal (1; `create` and `run` exit 125, as docker's).
 */
async function expectCliOutcome(
  cli: StrataCli,
  c: BreakoutCase,
  args: string[],
  failCode = 1,
): Promise<number> {
  const before = await storeFiles(cli.root);
  const r = await cli.run(args);
  expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  if (c.outcome === "reject") expect(r.code, `${c.name}: ${r.stderr}`).toBe(failCode);
  else if (c.outcome === "accept") expect(r.code, `${c.name}: ${r.stderr}`).toBe(0);
  else expect([0, failCode]).toContain(r.code);
  if (r.code !== 0) {
    expect(r.stderr).toMatch(/(^|\n)Error: /); // build prints its steps first
    if (c.error) expect(r.stderr).toMatch(c.error);
    expect(await storeFiles(cli.root)).toEqual(before);
  }
  return r.code;
}

const cliCases = breakoutCases.map((c, n) => ({ c, n })).filter(({ c }) => c.cli);

describe("strata import", () => {
  let a: Arena;
  let cli: StrataCli;
  let baseNames: string[];
  const imported: string[] = [];
  beforeAll(async () => {
    a = await arena();
    await mkdir(join(a.base, "root"));
    await mkdir(join(a.base, "input"));
    cli = await createStrata({ driver: "vfs", root: join(a.base, "root") });
    baseNames = (await readdir(a.base)).sort();
  });

  for (const { c, n } of cliCases) {
    it(`${c.outcome === "reject" ? "refuses" : "contains"}: ${c.name}`, async () => {
      const file = join(a.base, "input", `case-${n}.tar${c.gzip ? ".gz" : ""}`);
      await writeFile(file, await c.tar(a.victim));
      const before = await snapshotVictim(a.victim);
      if ((await expectCliOutcome(cli, c, ["import", file, `case:${n}`])) === 0) {
        imported.push(`case:${n}`);
      }
      await expectNothingOutside(a, before, baseNames);
    });
  }

  it("holds exactly the images of the archives it took", async () => {
    const tags = (await cli.ok("images", "--format", "{{.Repository}}:{{.Tag}}")).split("\n");
    expect(tags.filter((t) => t !== "").sort()).toEqual([...imported].sort());
  });
});

// --- strata load, then create (unpacks on the driver) -----------------------------------

/** A docker-archive holding one image per layer, tagged `case:<n>`. */
async function archiveOf(layers: { n: number; tar: Buffer }[]): Promise<Buffer> {
  const entries = [];
  const manifest = [];
  for (const { n, tar } of layers) {
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Cmd: ["/bin/true"] },
        rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      }),
    );
    const layerPath = `layers/${n}.tar`;
    const configPath = `${sha256(config).slice(7)}.json`;
    entries.push({ name: layerPath, body: tar }, { name: configPath, body: config });
    manifest.push({ Config: configPath, RepoTags: [`case:${n}`], Layers: [layerPath] });
  }
  entries.push({ name: "manifest.json", body: JSON.stringify(manifest) });
  return craftTar(entries);
}

describe("strata load, then create on overlay", () => {
  let a: Arena;
  let cli: StrataCli;
  let baseNames: string[];
  // Cases whose tar is well formed: load takes them (it checks an archive's structure and
  // digests, not what its layers hold) and create unpacks them. Damaged streams are load's
  // own refusals (load-hostile.test.ts, and the import cases above).
  const wellFormed = cliCases.filter(
    ({ c }) => !c.gzip && !/truncated|cut short|checksum|negative|larger than/.test(c.name),
  );

  beforeAll(async () => {
    a = await arena();
    await mkdir(join(a.base, "root"));
    cli = await createStrata({ driver: "overlay", root: join(a.base, "root") });
    const layers = await Promise.all(
      wellFormed.map(async ({ c, n }) => ({ n, tar: await c.tar(a.victim) })),
    );
    const file = join(a.base, "cases.tar");
    await writeFile(file, await archiveOf(layers));
    await cli.ok("load", "-i", file);
    baseNames = (await readdir(a.base)).sort();
  });
  afterAll(async () => {
    const ids = (await cli.ok("ps", "-aq")).split("\n").filter((l) => l !== "");
    if (ids.length > 0) await cli.ok("rm", "-f", ...ids);
  });

  for (const { c, n } of wellFormed) {
    it(`${c.outcome === "reject" ? "refuses" : "contains"}: ${c.name}`, async () => {
      const before = await snapshotVictim(a.victim);
      const containers = await cli.ok("ps", "-aq");
      const code = await expectCliOutcome(cli, c, ["create", `case:${n}`], 125);
      if (code !== 0) expect(await cli.ok("ps", "-aq")).toBe(containers); // no half-made one
      await expectNothingOutside(a, before, baseNames);
    });
  }
});

// --- strata build: ADD of a local archive ---------------------------------------------

describe("strata build, ADD of a local archive", () => {
  let a: Arena;
  let cli: StrataCli;
  let baseNames: string[];
  beforeAll(async () => {
    a = await arena();
    await mkdir(join(a.base, "root"));
    await mkdir(join(a.base, "contexts"));
    cli = await createStrata({ driver: "vfs", root: join(a.base, "root") });
    baseNames = (await readdir(a.base)).sort();
  });

  // Damaged streams are left to import: ADD unpacks what its magic bytes call an archive,
  // and a damaged one may be refused or copied as a plain file (docker's ADD does both).
  const wellFormed = cliCases.filter(({ c }) => !c.gzip && !/truncated|cut short/.test(c.name));
  for (const { c, n } of wellFormed) {
    it(`${c.outcome === "reject" ? "refuses" : "contains"}: ${c.name}`, async () => {
      const ctx = join(a.base, "contexts", `case-${n}`);
      await mkdir(ctx);
      const name = `case.tar${c.gzip ? ".gz" : ""}`;
      await writeFile(join(ctx, name), await c.tar(a.victim));
      await writeFile(join(ctx, "Dockerfile"), `FROM scratch\nADD ${name} /\n`);
      const before = await snapshotVictim(a.victim);
      await expectCliOutcome(cli, { ...c, outcome: c.plain ?? c.outcome }, [
        "build",
        "-q",
        "-t",
        `case:${n}`,
        ctx,
      ]);
      await expectNothingOutside(a, before, baseNames);
    });
  }
});

// --- strata cp - CONTAINER:/ (a tar on stdin) -----------------------------------------

describe("strata cp of a tar from stdin into a container", () => {
  let a: Arena;
  let cli: StrataCli;
  let baseNames: string[];
  const wellFormed = cliCases.filter(({ c }) => !c.gzip && !/truncated|cut short/.test(c.name));
  beforeAll(async () => {
    a = await arena();
    await mkdir(join(a.base, "root"));
    cli = await createStrata({ driver: "vfs", root: join(a.base, "root") });
    const base = join(a.base, "base.tar");
    await writeFile(
      base,
      await craftTar([
        { name: "etc/", type: "dir" },
        { name: "etc/hostname", body: "box\n" },
      ]),
    );
    await cli.ok("import", base, "base:1");
    await cli.ok("create", "--name", "target", "base:1", "/bin/true");
    baseNames = (await readdir(a.base)).sort();
  });
  afterAll(async () => {
    await cli.run("rm", "-f", "target");
  });

  for (const { c } of wellFormed) {
    it(`${c.outcome === "reject" ? "refuses" : "contains"}: ${c.name}`, async () => {
      const before = await snapshotVictim(a.victim);
      const r = await cli.run(["cp", "-", "target:/"], { input: await c.tar(a.victim) });
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const outcome = c.plain ?? c.outcome;
      if (outcome === "reject") expect(r.code, `${c.name}: ${r.stderr}`).toBe(1);
      if (outcome === "accept") expect(r.code, `${c.name}: ${r.stderr}`).toBe(0);
      if (r.code !== 0 && c.error) expect(r.stderr).toMatch(c.error);
      await expectNothingOutside(a, before, baseNames);
    });
  }
});

// --- overlay's own xattrs carried by a layer --------------------------------------------

describe("overlay's native apply and a layer's trusted.overlay.* xattrs", () => {
  it("sets none of them: a layer cannot make a directory opaque or redirect it", async () => {
    const a = await arena();
    const cs = new ContentStore(join(a.base, "store"));
    const mm = new MountManager();
    const sn = new OverlaySnapshotter(join(a.base, "driver"));
    const differ = new OverlayDiffer(cs, new NaiveDiffer(cs, mm));
    try {
      const parent = await craftTar([
        { name: "d/", type: "dir" },
        { name: "d/old", body: "from the parent\n" },
        { name: "other/", type: "dir" },
        { name: "other/secret", body: "elsewhere\n" },
      ]);
      await differ.apply(await storeBlob(cs, parent, false), await sn.prepare("base-key"));
      await sn.commit("base", "base-key");
      const layer = await craftTar([
        {
          name: "d/",
          type: "dir",
          xattrs: {
            "trusted.overlay.opaque": "y",
            "trusted.overlay.redirect": "/other",
            "user.kept": "1",
          },
        },
        { name: "d/new", body: "new\n" },
      ]);
      const mounts = await sn.prepare("child", "base");
      await differ.apply(await storeBlob(cs, layer, false), mounts);
      const upper = mounts[0]!.options.find((o) => o.startsWith("upperdir="))!.slice(9);
      const xattrs = [...(readXattrs(join(upper, "d"))?.keys() ?? [])];
      expect(xattrs.filter((k) => k.startsWith("trusted.overlay."))).toEqual([]);
      expect(xattrs).toContain("user.kept");
      const names = await mm.withTempMount(mounts, (dir) => readdir(join(dir, "d")));
      expect(names.sort()).toEqual(["new", "old"]);
    } finally {
      await sn.close();
    }
  });
});
