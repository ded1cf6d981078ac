/**
 * Bad input at the command line: malformed references, malformed JSON in an archive's
 * index, manifests and configs, manifests and layers of unknown media types, damaged
 * tar and gzip streams to `load` and `import`, bad `--change`, `--platform`, `--filter`
 * and `--format` values. Each gives a specific `Error: …`, exit 1 (125 where docker's
 * `create`/`run` use it), no stack trace, and leaves the store as it was: the same images
 * with the same tags, the same blob files, nothing left in ingest (checked around each
 * case: a change made by any of its commands would still show at its end).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CraftEntry, craftTar, sha256, storeState } from "./helpers/archives.js";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  type StrataCli,
} from "./helpers/strata.js";

let cli: StrataCli;
let work: string;
let rootfs: string;

beforeAll(async () => {
  work = await makeTempDir("strata-bad-input-");
  rootfs = await makeBusyboxRootfs(work);
  cli = await createStrata({ driver: "vfs" });
  await cli.ok("import", rootfs, "busybox:latest");
});
afterAll(cleanupTempDirs);

/** Run `args`; expect `message` on stderr, exit `code` and no stack trace. */
async function expectBadInput(args: string[], message: RegExp, code = 1): Promise<void> {
  const r = await cli.run(args);
  expect(r.stderr, `strata ${args.join(" ")}`).toMatch(message);
  expect(r.stderr).toMatch(/^Error: /);
  expect(r.stderr).not.toMatch(/\n\s+at |TypeError|RangeError|SyntaxError/);
  expect(r.code, r.stderr).toBe(code);
}

/**
 * Every case below runs refused commands only: after each, the store must be as it was
 * before it (the same images and tags, the same blob files, nothing left in ingest).
 */
let before: Awaited<ReturnType<typeof storeState>>;
beforeEach(async () => {
  before = await storeState(cli);
});
afterEach(async () => {
  expect(await storeState(cli)).toEqual({ ...before, ingest: [] });
});

/** Write `data` to a file of the work directory and return its path. */
async function file(name: string, data: Buffer | string): Promise<string> {
  const p = join(work, name);
  await writeFile(p, data);
  return p;
}

describe("malformed references", () => {
  const bad: [string, RegExp][] = [
    ["", /invalid reference format: "": empty reference/], // to pull: import takes "" as no tag
    ["UPPER", /invalid reference format: "UPPER": repository name must be lowercase/],
    ["a:b:c", /invalid reference format: "a:b:c": invalid repository name "a:b"/],
    ["@sha256:abc", /invalid reference format: "@sha256:abc": invalid digest "sha256:abc"/],
    ["a@sha256:0000", /invalid digest "sha256:0000"/],
    ["a:", /invalid reference format: "a:": invalid tag ""/],
    ["a/", /invalid reference format/],
    [`a:${"t".repeat(129)}`, /invalid tag/],
    [`${"a".repeat(256)}`, /must not be more than 255 characters/],
  ];
  it("are refused by pull, push, tag and import with docker's reason", async () => {
    const commands = [
      (ref: string) => ["pull", ref],
      (ref: string) => ["tag", "busybox", ref],
      (ref: string) => ["import", rootfs, ref],
      (ref: string) => ["push", ref],
    ];
    for (const [i, [ref, message]] of bad.entries()) {
      await expectBadInput(commands[i % commands.length]!(ref), message);
    }
  });

  it("are malformed names to rmi, history, save, inspect and create, as docker says", async () => {
    const lookup = /^Error: invalid reference format: /m;
    await expectBadInput(["rmi", "UPPER"], lookup);
    await expectBadInput(["history", "a::b"], lookup);
    await expectBadInput(["save", "-o", join(work, "x.tar"), "@@"], lookup);
    await expectBadInput(["image", "inspect", "a/../b"], lookup);
    await expectBadInput(["create", "UPPER"], lookup, 125);
  });
});

describe("bad flag values", () => {
  it("--change, --platform, --filter and --format", async () => {
    await expectBadInput(
      ["import", "--change", "NOPE x", rootfs, "ok:1"],
      /NOPE is not a valid change command/,
    );
    await expectBadInput(
      ["import", "--platform", "bad/x/y/z", rootfs, "ok:1"],
      /invalid platform "bad\/x\/y\/z"/,
    );
    await expectBadInput(["images", "--filter", "bogus=1"], /invalid filter 'bogus'/);
    await expectBadInput(["images", "--filter", "before=UPPER"], /.+/);
    await expectBadInput(
      ["images", "--format", "{{.Nope"],
      /template parsing error: template: :1: unclosed action/,
    );
    await expectBadInput(["images", "--format", "{{pad .ID -1 0}}"], /negative Repeat count/);
  });
});

describe("malformed Dockerfiles", () => {
  it("give docker's parse errors with their line, and build nothing", async () => {
    const cases: [string, RegExp][] = [
      ["FROM\n", /Dockerfile parse error on line 1: FROM requires either one or three arguments/],
      ["FROM scratch\nNOPE x\n", /parse error on line 2: unknown instruction: NOPE/],
      ["", /the Dockerfile cannot be empty/],
      [
        "FROM scratch\nCOPY $" + "{A:?needed} /\n",
        /failed to process "\$\{A:\?needed\}": A: needed/,
      ],
      ["FROM scratch\nHEALTHCHECK --interval=1e400s CMD true\n", /.+/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const ctx = join(work, `ctx-${i}`);
      await mkdir(ctx);
      await writeFile(join(ctx, "Dockerfile"), text);
      const r = await cli.run("build", "-q", ctx);
      expect(r.stderr, text).toMatch(message);
      expect(r.stderr).toMatch(/(^|\n)Error: /);
      expect(r.stderr).not.toMatch(/\n\s+at |TypeError|RangeError/);
      expect(r.code).toBe(1);
    }
  });
});

// --- archives ---------------------------------------------------------------------------

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** An OCI layout archive of one image whose documents `edit` may spoil. */
async function ociArchive(
  edit: {
    index?: (index: Record<string, unknown>) => unknown;
    manifest?: (m: Record<string, unknown>) => unknown;
    config?: (c: Record<string, unknown>) => unknown;
    raw?: { index?: string; config?: string };
  } = {},
): Promise<Buffer> {
  const layer = await craftTar([{ name: "hello", body: "hi\n" }]);
  let config = Buffer.from(
    edit.raw?.config ??
      JSON.stringify(
        (edit.config ?? ((c) => c))({
          architecture: "amd64",
          os: "linux",
          config: { Cmd: ["/bin/sh"] },
          rootfs: { type: "layers", diff_ids: [sha256(layer)] },
        }),
      ),
  );
  const manifest = Buffer.from(
    JSON.stringify(
      (edit.manifest ?? ((m) => m))({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar",
            digest: sha256(layer),
            size: layer.length,
          },
        ],
      }),
    ),
  );
  const index =
    edit.raw?.index ??
    JSON.stringify(
      (edit.index ?? ((i) => i))({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: sha256(manifest),
            size: manifest.length,
            annotations: { "io.containerd.image.name": "docker.io/library/oci:1" },
          },
        ],
      }),
    );
  config = Buffer.from(config);
  const blob = (b: Buffer): CraftEntry => ({ name: `blobs/sha256/${sha256(b).slice(7)}`, body: b });
  return craftTar([
    { name: "oci-layout", body: '{"imageLayoutVersion": "1.0.0"}' },
    { name: "blobs/", type: "dir" },
    { name: "blobs/sha256/", type: "dir" },
    blob(layer),
    blob(config),
    blob(manifest),
    { name: "index.json", body: index },
  ]);
}

describe("load of malformed archives", () => {
  it("the well-formed archive these cases spoil loads", async () => {
    const fresh = await createStrata({ driver: "vfs" });
    const out = await fresh.ok("load", "-i", await file("good.tar", await ociArchive()));
    expect(out).toBe("Loaded image: oci:1\n");
  });

  it("index.json that is not JSON, not an index, or names a missing blob", async () => {
    await expectBadInput(
      ["load", "-i", await file("a.tar", await ociArchive({ raw: { index: "{" } }))],
      /index\.json: invalid JSON/,
    );
    await expectBadInput(
      ["load", "-i", await file("b.tar", await ociArchive({ index: () => ({ manifests: 7 }) }))],
      /index\.json: not an image index/,
    );
    await expectBadInput(
      [
        "load",
        "-i",
        await file(
          "c.tar",
          await ociArchive({
            index: () => ({
              manifests: [{ mediaType: OCI_MANIFEST, digest: sha256("nothing"), size: 7 }],
            }),
          }),
        ),
      ],
      /missing from the archive|not in the archive/,
    );
  });

  it("a config that is not JSON, or with fields of the wrong type", async () => {
    await expectBadInput(
      ["load", "-i", await file("d.tar", await ociArchive({ raw: { config: "not json" } }))],
      /config "sha256:[a-f0-9]+": invalid JSON/,
    );
    await expectBadInput(
      [
        "load",
        "-i",
        await file(
          "e.tar",
          await ociArchive({ config: (c) => ({ ...c, config: { Env: "PATH=/bin" } }) }),
        ),
      ],
      /config\.Env is not a list of strings/,
    );
    await expectBadInput(
      [
        "load",
        "-i",
        await file("f.tar", await ociArchive({ config: (c) => ({ ...c, history: {} }) })),
      ],
      /history is not an array/,
    );
  });

  it("a manifest with a layer of an unknown media type", async () => {
    await expectBadInput(
      [
        "load",
        "-i",
        await file(
          "g.tar",
          await ociArchive({
            manifest: (m) => ({
              ...m,
              layers: (m.layers as Record<string, unknown>[]).map((l) => ({
                ...l,
                mediaType: "application/vnd.example.layer",
              })),
            }),
          }),
        ),
      ],
      /unsupported media type "application\/vnd\.example\.layer"/,
    );
  });

  it("an index whose only manifest has an unknown media type loads nothing", async () => {
    const archive = await ociArchive({
      manifest: (m) => ({ ...m, mediaType: "application/vnd.example.thing+json" }),
      index: (i) => ({
        ...i,
        manifests: (i.manifests as Record<string, unknown>[]).map((d) => ({
          ...d,
          mediaType: "application/vnd.example.thing+json",
        })),
      }),
    });
    const r = await cli.run("load", "-i", await file("h.tar", archive));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toMatch(/Loaded image/);
  });

  it("damaged streams: corrupt gzip, random bytes, an empty file", async () => {
    const gz = gzipSync(await ociArchive());
    for (let i = 30; i < 60; i++) gz[i] = 0x55;
    await expectBadInput(
      ["load", "-i", await file("i.tar.gz", gz)],
      /gzip|invalid|incorrect|unexpected end|corrupt/i,
    );
    await expectBadInput(
      ["load", "-i", await file("j.bin", Buffer.alloc(3000, 0x41))],
      /invalid image archive/,
    );
    await expectBadInput(["load", "-i", await file("k.tar", "")], /it is empty/);
  });
});

describe("import of damaged streams", () => {
  it("corrupt and truncated gzip, random bytes, an empty file, a missing file", async () => {
    const gz = gzipSync(await craftTar([{ name: "a", body: Buffer.alloc(100_000, 3) }]));
    const corrupt = Buffer.from(gz);
    for (let i = 30; i < 60; i++) corrupt[i] = 0x55;
    await expectBadInput(
      ["import", await file("l.tar.gz", corrupt), "x:1"],
      /gzip|invalid|incorrect|corrupt/i,
    );
    await expectBadInput(
      ["import", await file("m.tar.gz", gz.subarray(0, gz.length >> 1)), "x:1"],
      /gzip|unexpected end|truncated/i,
    );
    await expectBadInput(
      ["import", await file("n.bin", Buffer.alloc(3000, 0x41)), "x:1"],
      /import: not a valid tar archive/,
    );
    await expectBadInput(["import", await file("o.tar", ""), "x:1"], /holds no files|empty/);
    await expectBadInput(["import", join(work, "missing.tar"), "x:1"], /no such file or directory/);
  });
});
