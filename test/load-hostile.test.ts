/**
 * `load` of truncated, corrupt and hostile archives: each fails with a clear error, no
 * stack trace, exit 1, and leaves the store exactly as it was (same blobs, images and
 * tags, no leftover ingest files), even when the archive's first image was fine.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CraftEntry,
  craftTar,
  expectRefused,
  readArchive,
  sha256,
} from "./helpers/archives.js";
import {
  cleanupTempDirs,
  createStrata,
  makeBusyboxRootfs,
  makeTempDir,
  type StrataCli,
} from "./helpers/strata.js";

let cli: StrataCli;
let good: Buffer;
let entries: CraftEntry[];
let layerPath: string;
let configPath: string;

/** The good archive's entries, changed by `edit` (return undefined to drop an entry). */
async function edited(
  edit: (e: CraftEntry) => CraftEntry | CraftEntry[] | undefined,
  extra: CraftEntry[] = [],
): Promise<Buffer> {
  const out: CraftEntry[] = [];
  for (const e of entries) {
    const r = edit({ ...e });
    if (Array.isArray(r)) out.push(...r);
    else if (r) out.push(r);
  }
  return craftTar([...out, ...extra]);
}

function text(e: CraftEntry): string {
  return Buffer.from(e.body ?? "").toString();
}

beforeAll(async () => {
  const tmp = await makeTempDir();
  const busyboxTar = await makeBusyboxRootfs(tmp);
  const source = await createStrata({ driver: "vfs" });
  await source.ok("import", busyboxTar, "busybox:latest");
  await source.ok("import", busyboxTar, "second:1");
  const file = join(tmp, "good.tar");
  await source.ok("save", "-o", file, "busybox:latest", "second:1");
  good = await readFile(file);
  entries = (await readArchive(good)).map((e) => ({
    name: e.name,
    type: e.type as CraftEntry["type"],
    body: e.body,
  }));
  const manifest = JSON.parse(text(entries.find((e) => e.name === "manifest.json")!));
  layerPath = manifest[0].Layers[0];
  configPath = manifest[1].Config;
  // The store under attack already holds an image (with other layers: a layer the store
  // has is taken from the store, not the archive), which must survive every attempt.
  cli = await createStrata({ driver: "vfs" });
  await writeFile(join(tmp, "keep.tar"), await craftTar([{ name: "keep", body: "keep\n" }]));
  await cli.ok("import", join(tmp, "keep.tar"), "keep:1");
  // The good archive itself loads (and is then removed again) — the cases below are its variants.
  const check = await createStrata({ driver: "vfs" });
  expect(await check.ok("load", "-i", file)).toBe(
    "Loaded image: busybox:latest\nLoaded image: second:1\n",
  );
});
afterAll(cleanupTempDirs);

describe("load refuses damaged archives and changes nothing", () => {
  it("a truncated archive (cut inside a layer)", async () => {
    const cut = good.indexOf(Buffer.from(layerPath)) + 1024 * 1024;
    await expectRefused(cli, good.subarray(0, cut), /invalid image archive: .*truncated/);
  });

  it("a truncated gzip-compressed archive", async () => {
    const gz = gzipSync(good);
    await expectRefused(cli, gz.subarray(0, gz.length >> 1), /gzip|truncated|unexpected end/i);
  });

  it("a layer whose bytes do not match its name", async () => {
    const archive = await edited((e) => {
      if (e.name !== layerPath) return e;
      const body = Buffer.from(e.body!);
      body[body.length >> 1]! ^= 0xff;
      return { ...e, body };
    });
    await expectRefused(cli, archive, /digest mismatch: its content hashes to sha256:/);
  });

  it("a config whose diff IDs do not match the layers", async () => {
    let newPath = "";
    const archive = await edited((e) => {
      if (e.name === "index.json") return undefined; // docker reads manifest.json alone
      if (e.name === configPath) {
        const config = JSON.parse(text(e));
        config.rootfs.diff_ids = [sha256("something else")];
        const body = Buffer.from(JSON.stringify(config));
        newPath = `blobs/sha256/${sha256(body).slice(7)}`;
        return { ...e, name: newPath, body };
      }
      if (e.name === "manifest.json") {
        return { ...e, body: text(e).replace(configPath, () => newPath) };
      }
      return e;
    });
    await expectRefused(cli, archive, /invalid diffID for layer 0: expected "sha256:/);
  });

  it("a missing layer blob (for the second image only)", async () => {
    const manifest = JSON.parse(text(entries.find((e) => e.name === "manifest.json")!));
    manifest[1].Layers = [`blobs/sha256/${"0".repeat(64)}`];
    const archive = await edited((e) =>
      e.name === "manifest.json" ? { ...e, body: JSON.stringify(manifest) } : e,
    );
    await expectRefused(cli, archive, /layer 1 "blobs\/sha256\/0+" is not in the archive/);
  });

  it("a layer that is not a tar, even with a matching diff ID", async () => {
    const junk = Buffer.alloc(200 * 1024, "junk");
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [sha256(junk)] },
      }),
    );
    const archive = await craftTar([
      { name: "layer.tar", body: junk },
      { name: "config.json", body: config },
      {
        name: "manifest.json",
        body: JSON.stringify([
          { Config: "config.json", RepoTags: ["junk:1"], Layers: ["layer.tar"] },
        ]),
      },
    ]);
    await expectRefused(
      cli,
      archive,
      /layer 1 \(layer\.tar\) of image sha256:[a-f0-9]+: not a valid layer tar/,
    );
  });

  it("malformed JSON, a null manifest, and JSON too large to hold", async () => {
    const withManifest = (body: string | Buffer) =>
      edited((e) => (e.name === "manifest.json" ? { ...e, body } : e));
    await expectRefused(cli, await withManifest("[{"), /manifest\.json: invalid JSON/);
    await expectRefused(cli, await withManifest("null"), /manifest cannot be null/);
    const huge = Buffer.alloc(9 * 1024 * 1024, " ");
    huge[0] = 0x5b;
    await expectRefused(cli, await withManifest(huge), /"manifest\.json": \d+ bytes is too large/);
  });

  it("no archive at all: empty input, random bytes", async () => {
    await expectRefused(cli, Buffer.alloc(0), /invalid image archive: it is empty/);
    await expectRefused(cli, Buffer.alloc(4096, 7), /invalid image archive: .*tar header/);
  });
});

describe("load refuses archives that reach outside themselves", () => {
  it("entry names with .. or an absolute path", async () => {
    await expectRefused(
      cli,
      await edited((e) => e, [{ name: "../escape", body: "x" }]),
      /archive entry "\.\.\/escape": "\.\." in path/,
    );
    await expectRefused(
      cli,
      await edited((e) => e, [{ name: "/etc/escape", body: "x" }]),
      /archive entry "\/etc\/escape": absolute path/,
    );
  });

  it("manifest.json paths that point outside the archive", async () => {
    const manifest = JSON.parse(text(entries.find((e) => e.name === "manifest.json")!));
    for (const [field, value, message] of [
      [
        "Config",
        "../../../etc/passwd",
        /manifest\.json Config "..\/..\/..\/etc\/passwd": "\.\." in path/,
      ],
      ["Layers", ["/etc/passwd"], /manifest\.json layer "\/etc\/passwd": absolute path/],
    ] as const) {
      const m = structuredClone(manifest);
      m[0][field] = value;
      const archive = await edited((e) =>
        e.name === "manifest.json" ? { ...e, body: JSON.stringify(m) } : e,
      );
      await expectRefused(cli, archive, message);
    }
  });

  it("symlinks and hardlinks that point outside, and device nodes", async () => {
    const swap = (link: CraftEntry) =>
      edited((e) => (e.name === layerPath ? { ...link, name: layerPath } : e));
    await expectRefused(
      cli,
      await swap({ name: "", type: "symlink", linkname: "../../../etc/passwd" }),
      /link "\.\.\/\.\.\/\.\.\/etc\/passwd" points outside the archive/,
    );
    await expectRefused(
      cli,
      await swap({ name: "", type: "symlink", linkname: "/etc/passwd" }),
      /link to the absolute path "\/etc\/passwd"/,
    );
    await expectRefused(
      cli,
      await swap({ name: "", type: "link", linkname: "../outside" }),
      /link "\.\.\/outside" points outside the archive/,
    );
    await expectRefused(
      cli,
      await edited((e) => e, [{ name: "dev/null", type: "char" }]),
      /archive entry "dev\/null": a char device has no place in an image archive/,
    );
  });

  it("a symlink loop, and an entry that appears twice", async () => {
    await expectRefused(
      cli,
      await edited((e) =>
        e.name === layerPath
          ? [
              { name: layerPath, type: "symlink", linkname: "loop" },
              { name: "blobs/sha256/loop", type: "symlink", linkname: layerPath.slice(13) },
            ]
          : e,
      ),
      /too many levels of links/,
    );
    await expectRefused(
      cli,
      await edited((e) => (e.name === "repositories" ? [e, e] : e)),
      /archive entry "repositories": appears twice/,
    );
  });
});
