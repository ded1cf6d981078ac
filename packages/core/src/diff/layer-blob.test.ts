import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ContentStore } from "../content/content-store.js";
import { MediaTypes } from "../image/media-types.js";
import { applyLayerBlob, storeLayerBlob } from "./layer-blob.js";
import type { LayerChange } from "./layer-change.js";
import { cleanupTemp, put, tempDir } from "./test-support/trees.js";

afterEach(cleanupTemp);

/** A tree with a few files, 3 MiB in all, and its changes as a base layer. */
async function tree(): Promise<{ dir: string; changes: LayerChange[] }> {
  const dir = await tempDir();
  await put(dir, "small", "x");
  await put(dir, "data/big", randomBytes(3 << 20));
  await put(dir, "data/mid", randomBytes(100_000));
  const changes: LayerChange[] = ["data", "data/big", "data/mid", "small"].map((p) => ({
    kind: "add",
    path: p,
  }));
  return { dir, changes };
}

describe.each([
  ["uncompressed", MediaTypes.OciLayer],
  ["gzip", MediaTypes.OciLayerGzip],
])("layer blob progress (%s)", (_name, mediaType) => {
  it("store: reports growing tar byte counts that end at the tar's size", async () => {
    const { dir, changes } = await tree();
    const store = new ContentStore(await tempDir("strata-store-"));
    const seen: number[] = [];
    const desc = await storeLayerBlob(store, changes, {
      sourceRoot: dir,
      mediaType,
      onProgress: (n) => seen.push(n),
    });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    // The last count is the whole tar: more than the content, a multiple of 512.
    const last = seen.at(-1)!;
    expect(last).toBeGreaterThan((3 << 20) + 100_000);
    expect(last % 512).toBe(0);
    if (mediaType === MediaTypes.OciLayer) expect(last).toBe(desc.size);
  });

  it("apply: reports the stored blob's bytes read, ending at its size", async () => {
    const { dir, changes } = await tree();
    const store = new ContentStore(await tempDir("strata-store-"));
    const desc = await storeLayerBlob(store, changes, { sourceRoot: dir, mediaType });
    const target = await tempDir();
    const seen: number[] = [];
    await applyLayerBlob(store, desc, target, { onProgress: (n) => seen.push(n) });
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(seen.at(-1)).toBe(desc.size);
    expect((await fs.stat(path.join(target, "data/big"))).size).toBe(3 << 20);
  });
});
