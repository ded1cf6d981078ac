import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { ContentStore } from "./content-store.js";
import { sha256Digest } from "./digest.js";

let root: string;
let store: ContentStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "strata-content-"));
  store = new ContentStore(root);
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function visibleBlobs(): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list()) out.push(b.digest);
  return out;
}

async function ingestFiles(): Promise<string[]> {
  return fs.readdir(path.join(root, "content", "ingest")).catch(() => []);
}

describe("ContentStore", () => {
  it("stores a blob under its digest and reads it back verified", async () => {
    const data = Buffer.from("hello layer");
    const info = await store.put(data, { digest: sha256Digest(data), size: data.length });
    expect(info).toEqual({ digest: sha256Digest(data), size: data.length });
    expect((await store.readVerified(info.digest)).toString()).toBe("hello layer");
    expect(await store.has(info.digest)).toBe(true);
    expect(await ingestFiles()).toEqual([]);
  });

  it("never makes visible a blob whose digest does not verify", async () => {
    const wrong = sha256Digest("something else");
    await expect(store.put(Buffer.from("data"), { digest: wrong })).rejects.toThrow(
      InvalidArgumentError,
    );
    expect(await visibleBlobs()).toEqual([]);
    expect(await store.has(wrong)).toBe(false);
    expect(await ingestFiles()).toEqual([]);
  });

  it("rejects a size mismatch, both short and long", async () => {
    await expect(store.put(Buffer.from("abc"), { size: 4 })).rejects.toThrow("size mismatch");
    await expect(store.put(Buffer.from("abcde"), { size: 4 })).rejects.toThrow("more data");
    expect(await visibleBlobs()).toEqual([]);
    expect(await ingestFiles()).toEqual([]);
  });

  it("reports a tampered blob instead of returning its bytes", async () => {
    const { digest } = await store.put(Buffer.from("original"));
    const file = store.blobPath(digest);
    await fs.writeFile(file, "tampered");
    await expect(store.readVerified(digest)).rejects.toThrow("does not match its digest");
  });

  it("lets concurrent writers of the same blob all succeed", async () => {
    const data = Buffer.alloc(256 * 1024, 7);
    const chunks = (n: number) =>
      (async function* () {
        for (let i = 0; i < data.length; i += n) yield data.subarray(i, i + n);
      })();
    const results = await Promise.all(
      [1024, 4096, 65536, 333].map((n) => store.ingest(chunks(n), { digest: sha256Digest(data) })),
    );
    expect(new Set(results.map((r) => r.digest)).size).toBe(1);
    expect(await visibleBlobs()).toEqual([sha256Digest(data)]);
    expect((await store.readVerified(sha256Digest(data))).equals(data)).toBe(true);
    expect(await ingestFiles()).toEqual([]);
  });

  it("aborts a write whose source fails, leaving nothing behind", async () => {
    const failing = (async function* () {
      yield Buffer.from("partial");
      throw new Error("connection dropped");
    })();
    await expect(store.ingest(failing)).rejects.toThrow("connection dropped");
    expect(await visibleBlobs()).toEqual([]);
    expect(await ingestFiles()).toEqual([]);
  });

  it("writes several chunks at once with writev, verified like write", async () => {
    const parts = [
      Buffer.from("a".repeat(70000)),
      Buffer.alloc(0),
      Buffer.from("bc"),
      Buffer.from("d"),
    ];
    const data = Buffer.concat(parts);
    const w = await store.writer({ digest: sha256Digest(data), size: data.length });
    await w.writev(parts.slice(0, 2));
    await w.writev(parts.slice(2));
    expect(w.size).toBe(data.length);
    await w.commit();
    expect((await store.readVerified(sha256Digest(data))).equals(data)).toBe(true);
    const over = await store.writer({ size: 3 });
    await expect(over.writev([Buffer.from("ab"), Buffer.from("cd")])).rejects.toThrow(
      InvalidArgumentError,
    );
    expect(await ingestFiles()).toEqual([]);
  });

  it("says NotFound for a missing blob and cleans files of dead writers", async () => {
    await expect(store.info(sha256Digest("nope"))).rejects.toThrow(NotFoundError);
    await fs.mkdir(path.join(root, "content", "ingest"), { recursive: true });
    await fs.writeFile(path.join(root, "content", "ingest", "999999999-deadbeef"), "x");
    await fs.writeFile(path.join(root, "content", "ingest", `${process.pid}-live`), "x");
    expect(await store.cleanIngest()).toBe(1);
    expect(await ingestFiles()).toEqual([`${process.pid}-live`]);
  });

  describe("offloaded to a worker thread", () => {
    it("writes a blob the same as on this thread, and verifies it the same", async () => {
      const data = Buffer.alloc(9 << 20);
      for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
      const w = await store.writer({ digest: sha256Digest(data), size: data.length });
      expect(w.offloaded).toBe(true); // 9 MiB with a known size: offloaded by default
      for (let i = 0; i < data.length; i += 700_000) await w.write(data.subarray(i, i + 700_000));
      expect(() => w.digest()).toThrow("seal()");
      expect(await w.seal()).toBe(sha256Digest(data));
      expect(w.digest()).toBe(sha256Digest(data));
      await expect(w.write(Buffer.from("late"))).rejects.toThrow("write after seal");
      expect(await w.commit()).toEqual({ digest: sha256Digest(data), size: data.length });
      expect((await store.readVerified(sha256Digest(data))).equals(data)).toBe(true);
      expect(await ingestFiles()).toEqual([]);
    });

    it("rejects a wrong digest, a short and a long blob, leaving nothing behind", async () => {
      const data = Buffer.alloc(5 << 20, 3);
      const wrong = await store.writer({ digest: sha256Digest("x"), size: data.length });
      await wrong.write(data);
      await expect(wrong.commit()).rejects.toThrow("digest mismatch");
      const short = await store.writer({ size: data.length + 1 });
      await short.write(data);
      await expect(short.commit()).rejects.toThrow("size mismatch");
      const long = await store.writer({ size: data.length - 1 });
      await expect(long.write(data)).rejects.toThrow("more data");
      expect(await visibleBlobs()).toEqual([]);
      expect(await ingestFiles()).toEqual([]);
    });

    it("falls back to this thread when every worker is busy", async () => {
      const writers = await Promise.all(
        Array.from({ length: os.availableParallelism() + 2 }, () =>
          store.writer({}, { offload: true }),
        ),
      );
      const offloaded = writers.filter((w) => w.offloaded).length;
      expect(offloaded).toBe(os.availableParallelism());
      const datas = writers.map((_, i) => Buffer.alloc((1 << 20) + i, i));
      await Promise.all(writers.map((w, i) => w.write(datas[i]!)));
      const infos = await Promise.all(writers.map((w) => w.commit()));
      expect(infos.map((i) => i.digest)).toEqual(datas.map((d) => sha256Digest(d)));
      for (const d of datas)
        expect((await store.readVerified(sha256Digest(d))).equals(d)).toBe(true);
    });

    it("aborts an offloaded write, and the worker serves the next one", async () => {
      const w = await store.writer({}, { offload: true });
      await w.write(Buffer.alloc(3 << 20, 9));
      await w.abort();
      expect(await ingestFiles()).toEqual([]);
      const next = await store.writer({}, { offload: true });
      expect(next.offloaded).toBe(true);
      await next.write(Buffer.from("after"));
      expect((await next.commit()).digest).toBe(sha256Digest("after"));
    });
  });
});
