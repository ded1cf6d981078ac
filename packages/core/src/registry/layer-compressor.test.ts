import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContentStore } from "../content/content-store.js";
import { sha256Digest } from "../content/digest.js";
import { InvalidArgumentError } from "../errors.js";
import { MediaTypes } from "../image/media-types.js";
import { gzipLayer, zstdLayer } from "./layer-compressor.js";
import { layerSizeHint, zstdContentSize } from "./layer-size.js";

let root: string;
let store: ContentStore;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-gzip-"));
  store = new ContentStore(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Half text, half random: several blocks, some compressible. */
function sample(size: number): Buffer {
  const text = Buffer.from("usr/lib/x86_64-linux-gnu/libc.so.6 ".repeat(Math.ceil(size / 70)));
  const half = Math.floor(size / 2);
  return Buffer.concat([text.subarray(0, half), randomBytes(size - half)]);
}

describe("gzipLayer", () => {
  for (const size of [0, 1000, 1024 * 1024, 3 * 1024 * 1024 + 12345]) {
    it(`compresses ${size} bytes into one gzip member any reader inflates`, async () => {
      const data = sample(size);
      const layer = await store.put(data);
      const gz = await gzipLayer(store, { mediaType: MediaTypes.OciLayer, ...layer });
      expect(gz.mediaType).toBe(MediaTypes.OciLayerGzip);
      const bytes = await readFile(store.blobPath(gz.digest));
      expect(sha256Digest(bytes)).toBe(gz.digest);
      expect(gunzipSync(bytes).equals(data)).toBe(true);
      // The gzip trailer states the size, which is what a pulled layer's size is read from.
      expect(await layerSizeHint(store, gz)).toBe(size);
    });
  }

  it("gives the same digest for the same layer, whatever the parallelism", async () => {
    const layer = await store.put(sample(5 * 1024 * 1024));
    const desc = { mediaType: MediaTypes.OciLayer, ...layer };
    const a = await gzipLayer(store, desc, { parallelism: 1 });
    const b = await gzipLayer(store, desc, { parallelism: 8 });
    expect(a).toEqual(b);
  });

  it("refuses a stored layer that no longer matches its digest, leaving nothing", async () => {
    const layer = await store.put(sample(2000));
    await writeFile(store.blobPath(layer.digest), sample(2000));
    await expect(
      gzipLayer(store, { mediaType: MediaTypes.OciLayer, ...layer }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe("zstdLayer", () => {
  it("compresses with the zstd binary, the same digest every time, readable by zstd -d", async () => {
    const data = sample(3 * 1024 * 1024);
    const layer = await store.put(data);
    const desc = { mediaType: MediaTypes.OciLayer, ...layer };
    const a = await zstdLayer(store, desc);
    const b = await zstdLayer(store, desc);
    expect(a).toEqual(b);
    expect(a.mediaType).toBe(MediaTypes.OciLayerZstd);
    const out = execFileSync("zstd", ["-d", "-c", store.blobPath(a.digest)], {
      maxBuffer: 1 << 26,
    });
    expect(out.equals(data)).toBe(true);
  });
});

describe("zstdContentSize", () => {
  it("reads the frame content size when the header has one", () => {
    // zstd -c of "hello\n" (single segment, 1-byte FCS).
    const frame = Buffer.from("28b52ffd2406310000", "hex");
    expect(zstdContentSize(frame)).toBe(6);
    expect(zstdContentSize(Buffer.from("28b52ffd0058", "hex"))).toBeUndefined();
    expect(zstdContentSize(Buffer.from("1f8b08000000", "hex"))).toBeUndefined();
  });
});
