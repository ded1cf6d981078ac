import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContentStore } from "../content/content-store.js";
import { sha256Digest } from "../content/digest.js";
import { InvalidArgumentError } from "../errors.js";
import type { TarHeader } from "../util/tar-header.js";
import { TarWriter } from "../util/tar-writer.js";
import { spoolArchive } from "./archive-spool.js";
import { probeBuffer, sniffCompression } from "./layer-probe.js";

let root: string;
let store: ContentStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-spool-"));
  store = new ContentStore(root);
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

type Entry = Partial<TarHeader> & { name: string; body?: Buffer | string };

async function tar(entries: Entry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const w = new TarWriter({ write: async (c) => void parts.push(Buffer.from(c)) });
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const { body: _, ...h } = e;
    await w.entry(
      { type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: body?.length ?? 0, ...h },
      body,
    );
  }
  await w.finish();
  return Buffer.concat(parts);
}

async function* stream(data: Buffer, chunk = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
}

const ingest = () => fs.readdir(path.join(root, "content/ingest")).catch(() => []);
const blobs = () => fs.readdir(path.join(root, "content/blobs/sha256")).catch(() => []);

describe("spoolArchive", () => {
  it("holds small files in memory and spools large ones into ingest, uncommitted", async () => {
    const layer = await tar([{ name: "big", body: Buffer.alloc(300 * 1024, 1) }]);
    const digest = sha256Digest(layer);
    const archive = await spoolArchive(
      store,
      stream(
        await tar([
          { name: "manifest.json", body: "[]" },
          { name: `blobs/sha256/${digest.slice(7)}`, body: layer },
        ]),
      ),
    );
    expect(archive.lookup("./manifest.json", "t")).toMatchObject({ kind: "memory" });
    const file = archive.lookup(`blobs/sha256/${digest.slice(7)}`, "t");
    expect(file).toMatchObject({
      kind: "spooled",
      digest,
      facts: { compression: "none", diffId: digest, contentSize: 300 * 1024 },
    });
    expect(await ingest()).toHaveLength(1);
    expect(await blobs()).toEqual([]);
    await archive.discard();
    expect(await ingest()).toEqual([]);
  });

  it("skips a named blob the store already has, unread", async () => {
    const data = Buffer.alloc(200 * 1024, 2);
    const { digest } = await store.put(data);
    const archive = await spoolArchive(
      store,
      stream(await tar([{ name: `blobs/sha256/${digest.slice(7)}`, body: data }])),
    );
    expect(archive.files.get(`blobs/sha256/${digest.slice(7)}`)).toMatchObject({
      kind: "present",
      digest,
    });
    expect(await ingest()).toEqual([]);
  });

  it("refuses a named blob whose bytes hash to something else, leaving no ingest file", async () => {
    const name = `blobs/sha256/${"a".repeat(64)}`;
    const run = spoolArchive(store, stream(await tar([{ name, body: Buffer.alloc(100 * 1024) }])));
    await expect(run).rejects.toThrow(/digest mismatch: its content hashes to sha256:/);
    expect(await ingest()).toEqual([]);
  });

  it.each([
    [{ name: "../x", body: "x" }, /".." in path/],
    [{ name: "/abs", body: "x" }, /absolute path/],
    [{ name: "l", type: "symlink", linkname: "../../etc/passwd" }, /points outside the archive/],
    [{ name: "l", type: "symlink", linkname: "/etc/passwd" }, /link to the absolute path/],
    [{ name: "h", type: "link", linkname: "../h" }, /points outside the archive/],
    [{ name: "d", type: "char", devmajor: 1, devminor: 3 }, /char device has no place/],
  ] as [Entry, RegExp][])("refuses %o", async (entry, message) => {
    const data = await tar([{ name: "ok", body: Buffer.alloc(100 * 1024) }, entry]);
    const err = await spoolArchive(store, stream(data)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(message);
    expect(await ingest()).toEqual([]);
  });

  it("refuses a truncated archive, aborting what it spooled", async () => {
    const data = await tar([{ name: "layer.tar", body: Buffer.alloc(512 * 1024, 3) }]);
    const run = spoolArchive(store, stream(data.subarray(0, 300 * 1024)));
    await expect(run).rejects.toThrow(/invalid image archive: .*truncated/);
    expect(await ingest()).toEqual([]);
  });

  it("follows links inside the archive, and stops at loops", async () => {
    const archive = await spoolArchive(
      store,
      stream(
        await tar([
          { name: "a/layer.tar", body: "x" },
          { name: "b/layer.tar", type: "symlink", linkname: "../a/layer.tar" },
          { name: "c", type: "symlink", linkname: "d" },
          { name: "d", type: "symlink", linkname: "c" },
        ]),
      ),
    );
    expect(archive.lookup("b/layer.tar", "t")?.path).toBe("a/layer.tar");
    expect(() => archive.lookup("c", "t")).toThrow(/too many levels of links/);
  });
});

describe("layer probe", () => {
  it("learns compression, diff ID and content size of plain and gzip layers", async () => {
    const layer = await tar([
      { name: "f", body: "12345" },
      { name: "s", type: "symlink", linkname: "target" },
      { name: "d/", type: "dir" },
    ]);
    const plain = await probeBuffer(layer, sha256Digest(layer));
    expect(plain).toEqual({ compression: "none", diffId: sha256Digest(layer), contentSize: 11 });
    const gz = gzipSync(layer);
    expect(sniffCompression(gz)).toBe("gzip");
    expect(await probeBuffer(gz, sha256Digest(gz))).toEqual({ ...plain, compression: "gzip" });
  });

  it("reports a file that is not a tar as an error, not a throw", async () => {
    const junk = Buffer.alloc(4096, "junk");
    expect(await probeBuffer(junk, sha256Digest(junk))).toBeInstanceOf(Error);
    const badGzip = gzipSync(junk).subarray(0, 20);
    expect(await probeBuffer(badGzip, sha256Digest(badGzip))).toBeInstanceOf(Error);
  });
});
